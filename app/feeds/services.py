"""Ingesting change events into the inbox and applying them in order per key."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from app.database import fetch_page, utc_now
from app.errors import Conflict, NotFound
from app.extensions import db
from app.feeds.appliers import Applier, Outcome
from app.feeds.models import EventStatus, FeedKey, InboxEvent
from app.feeds.schemas import EventEnvelope, EventQuery

log = logging.getLogger(__name__)

FINISHED = (
    EventStatus.APPLIED,
    EventStatus.SKIPPED,
    EventStatus.DISCARDED,
    EventStatus.REJECTED,
)


class EventNotFound(NotFound):
    """Event not found."""

    code = "event_not_found"


class EventNotDead(Conflict):
    """Only a dead event can be replayed or discarded."""

    code = "event_not_dead"


def appliers() -> dict[tuple[str, str], Applier]:
    return current_app.extensions["feed_appliers"]


@dataclass(frozen=True)
class Step:
    """What one attempt on a key did. `delay`: seconds until the key wants another look."""

    kind: str  # applied, skipped, idle, busy, held, wait, retry, dead
    delay: float = 0.0


def apply_next_event(topic: str, key: str) -> Step:
    """Apply the oldest unfinished event of one key, under that key's row lock.

    Another worker holding the lock means it is already working through the key:
    this call returns `busy` instead of waiting. The caller commits.
    """
    state = db.session.scalars(
        select(FeedKey)
        .where(FeedKey.topic == topic, FeedKey.key == key)
        .with_for_update(skip_locked=True)
    ).first()
    if state is None:
        return Step("busy")
    event = db.session.scalars(
        select(InboxEvent)
        .where(
            InboxEvent.topic == topic,
            InboxEvent.key == key,
            InboxEvent.status.in_([EventStatus.PENDING.value, EventStatus.DEAD.value]),
        )
        .order_by(InboxEvent.id)
        .limit(1)
    ).first()
    now = utc_now()
    if event is None:
        return Step("idle")
    if event.status == EventStatus.DEAD:
        return Step("held")
    if event.next_attempt_at > now:
        return Step("wait", (event.next_attempt_at - now).total_seconds())
    if _is_stale(event, state):
        _finish(event, EventStatus.SKIPPED, now)
        return Step("skipped")
    try:
        with db.session.begin_nested():
            outcome = _apply(event)
    except Exception as error:  # a poison event must not stop the worker
        return _record_failure(event, error, now)
    _finish(event, EventStatus(outcome.value), now)
    if event.sequence is not None:
        state.last_sequence = max(event.sequence, state.last_sequence or 0)
    state.last_event_id = event.event_id
    return Step(outcome.value)


def _is_stale(event: InboxEvent, state: FeedKey) -> bool:
    return (
        event.sequence is not None
        and state.last_sequence is not None
        and event.sequence <= state.last_sequence
    )


def _apply(event: InboxEvent) -> Outcome:
    applier = appliers().get((event.topic, event.type))
    if applier is None:
        raise LookupError(f"no applier for {event.topic}/{event.type} (settings changed?)")
    return applier.apply(event.key, applier.payload.model_validate(event.payload))


def _finish(event: InboxEvent, status: EventStatus, now: datetime) -> None:
    event.status = status.value
    event.finished_at = now


def _record_failure(event: InboxEvent, error: Exception, now: datetime) -> Step:
    settings = current_app.extensions["settings"]
    event.attempts += 1
    event.last_error = f"{type(error).__name__}: {error}"[:2000]
    log.warning(
        "event %s failed (attempt %d): %s", event.event_id, event.attempts, event.last_error
    )
    if event.attempts >= settings.event_max_attempts:
        _finish(event, EventStatus.DEAD, now)
        log.error("event %s is dead after %d attempts", event.event_id, event.attempts)
        return Step("dead")
    delay = settings.event_retry_backoff_seconds * 2 ** (event.attempts - 1)
    event.next_attempt_at = now + timedelta(seconds=delay)
    return Step("retry", delay)


def get_event(event_id: str) -> InboxEvent:
    event = db.session.scalars(select(InboxEvent).where(InboxEvent.event_id == event_id)).first()
    if event is None:
        raise EventNotFound(f"Event {event_id} not found")
    return event


def list_events(query: EventQuery) -> tuple[list[InboxEvent], int]:
    statement = select(InboxEvent)
    if query.status is not None:
        statement = statement.where(InboxEvent.status == query.status.value)
    if query.topic is not None:
        statement = statement.where(InboxEvent.topic == query.topic)
    if query.key is not None:
        statement = statement.where(InboxEvent.key == query.key)
    return fetch_page(db.session, statement.order_by(InboxEvent.id), query.skip, query.limit)


def replay(event_id: str) -> InboxEvent:
    """A dead event becomes pending again, with fresh attempts, at the head of its key."""
    event = _dead_event(event_id)
    event.status = EventStatus.PENDING.value
    event.attempts = 0
    event.next_attempt_at = utc_now()
    event.finished_at = None
    db.session.flush()
    return event


def discard(event_id: str) -> InboxEvent:
    """Give up on a dead event; the events after it on its key flow again."""
    event = _dead_event(event_id)
    _finish(event, EventStatus.DISCARDED, utc_now())
    db.session.flush()
    return event


def _dead_event(event_id: str) -> InboxEvent:
    event = get_event(event_id)
    if event.status != EventStatus.DEAD:
        raise EventNotDead(f"Event {event_id} is {event.status}, not dead")
    return event


def keys_waiting(older_than: datetime) -> list[tuple[str, str]]:
    """Keys with a pending event received before `older_than` and due for an attempt."""
    rows = db.session.execute(
        select(InboxEvent.topic, InboxEvent.key)
        .where(
            InboxEvent.status == EventStatus.PENDING.value,
            InboxEvent.received_at < older_than,
            InboxEvent.next_attempt_at <= utc_now(),
        )
        .distinct()
    )
    return [tuple(row) for row in rows]


def purge_finished(finished_before: datetime) -> int:
    result = db.session.execute(
        delete(InboxEvent).where(
            InboxEvent.status.in_([status.value for status in FINISHED]),
            InboxEvent.finished_at < finished_before,
        )
    )
    return result.rowcount


def distinct_keys(events: Iterable[EventEnvelope]) -> list[tuple[str, str]]:
    return list(dict.fromkeys((event.topic, event.key) for event in events))
