"""Applying the pending events of many keys in one transaction, a set at a time.

One worker task takes a list of keys. It locks their `FeedKey` rows (`FOR UPDATE
SKIP LOCKED`: a key another worker holds is `busy` and left to it), reads their
unfinished events in arrival order (at most `EVENT_APPLY_MAX_EVENTS`, so memory is
bounded whatever the backlog) and decides per key, as `services.apply_next_event`
would one event at a time:

- a dead event at the head holds its key; a retry not yet due makes it wait;
- an event whose `sequence` is not above the key's last one is stale: skipped;
- of the rest, only the latest state counts: it is written once, and every event
  of the run is marked as it would be had it been applied alone: `applied` (its
  state was written, then replaced by the next one's in the same transaction), so
  an event's status never depends on how the events happened to be batched.

The latest states of all keys are written with one statement per table and event
type (`Applier.apply_many`), the events' statuses with one statement, the keys'
progress with one more. A key whose events mix types, or have no applier, or
several pending upload box versions (whose older ones are skipped), goes one
event at a time. If a set statement fails (one poison event among hundreds), the
set is rolled back to its savepoint and every key goes one event at a time, so
the poison event fails, retries and dies alone while the others apply.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import BigInteger, and_, any_, bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from app.database import utc_now
from app.database.many_rows import insert_many
from app.extensions import db
from app.feeds import services
from app.feeds.models import EventStatus, FeedKey, InboxEvent

log = logging.getLogger(__name__)

Key = tuple[str, str]

_EVENT_COLUMNS = (
    InboxEvent.id,
    InboxEvent.event_id,
    InboxEvent.topic,
    InboxEvent.type,
    InboxEvent.key,
    InboxEvent.sequence,
    InboxEvent.status,
    InboxEvent.next_attempt_at,
)


@dataclass
class BatchReport:
    """What one pass over a list of keys did, and which keys want another look."""

    applied: int = 0
    skipped: int = 0
    failed: int = 0
    #: Held by another worker right now.
    busy: list[Key] = field(default_factory=list)
    #: More pending events than this pass read.
    unfinished: list[Key] = field(default_factory=list)
    #: (key, seconds): a retry that is not due yet.
    waiting: list[tuple[Key, float]] = field(default_factory=list)
    #: Went one event at a time (mixed types, or the set statement failed).
    one_by_one: int = 0


@dataclass
class _KeyPlan:
    key: Key
    last_sequence: int | None
    stale: list = field(default_factory=list)
    run: list = field(default_factory=list)
    wait: float | None = None


def apply_keys(keys: list[Key], max_events: int | None = None) -> BatchReport:
    """Apply what is pending for these keys; the caller commits."""
    settings = current_app.extensions["settings"]
    max_events = max_events or settings.event_apply_max_events
    keys = list(dict.fromkeys(tuple(key) for key in keys))
    report = BatchReport()
    if not keys:
        return report
    locked = _lock(keys)
    report.busy = [key for key in keys if key not in locked]
    if not locked:
        return report
    events = _unfinished_events(list(locked), max_events + 1)
    if len(events) > max_events:
        events = events[:max_events]
        report.unfinished = list(dict.fromkeys((e.topic, e.key) for e in events))
    by_key: dict[Key, list] = defaultdict(list)
    for event in events:
        by_key[(event.topic, event.key)].append(event)
    now = utc_now()
    # by_key is in arrival order of each key's oldest event: one event at a time, the
    # keys go in the order their events came (two keys claiming one resource: the
    # first to arrive gets it).
    plans = [_plan(key, locked[key], events, now) for key, events in by_key.items()]
    report.waiting = [(plan.key, plan.wait) for plan in plans if plan.wait is not None]
    together, alone = _split(plans)
    if together:
        try:
            with db.session.begin_nested():
                _apply_together(together, now, report)
        except Exception as error:  # one poison event: find it one event at a time
            log.warning(
                "applying %d key(s) together failed (%s: %s); one event at a time instead",
                len(together),
                type(error).__name__,
                str(error).splitlines()[0][:300] if str(error) else "",
            )
            chosen = {id(plan) for plan in (*together, *alone)}
            alone = [plan for plan in plans if id(plan) in chosen]  # arrival order
    for plan in alone:
        _apply_one_by_one(plan, report)
    return report


def _lock(keys: list[Key]) -> dict[Key, int | None]:
    """The keys' rows this transaction now holds, with their last sequence."""
    rows = db.session.execute(
        select(FeedKey.topic, FeedKey.key, FeedKey.last_sequence)
        .where(_keys_clause(FeedKey, keys))
        .order_by(FeedKey.topic, FeedKey.key)
        .with_for_update(skip_locked=True)
    )
    return {(topic, key): last for topic, key, last in rows}


def _unfinished_events(keys: list[Key], limit: int) -> list:
    return db.session.execute(
        select(*_EVENT_COLUMNS)
        .where(
            _keys_clause(InboxEvent, keys),
            InboxEvent.status.in_([EventStatus.PENDING.value, EventStatus.DEAD.value]),
        )
        .order_by(InboxEvent.id)
        .limit(limit)
    ).all()


def _keys_clause(model, keys: list[Key]):
    """`(topic = t AND key IN (...)) OR …`: per topic, so the (topic, key) index serves it."""
    by_topic: dict[str, list[str]] = defaultdict(list)
    for topic, key in keys:
        by_topic[topic].append(key)
    return or_(*(and_(model.topic == t, model.key.in_(names)) for t, names in by_topic.items()))


def _plan(key: Key, last_sequence: int | None, events: list, now: datetime) -> _KeyPlan:
    """The key's events in order, up to the first that holds it (dead) or must wait."""
    plan = _KeyPlan(key, last_sequence)
    for event in events:
        if event.status == EventStatus.DEAD.value:
            break
        if event.next_attempt_at > now:
            plan.wait = (event.next_attempt_at - now).total_seconds()
            break
        if (
            event.sequence is not None
            and plan.last_sequence is not None
            and event.sequence <= plan.last_sequence
        ):
            plan.stale.append(event)
            continue
        plan.run.append(event)
        if event.sequence is not None:
            plan.last_sequence = max(event.sequence, plan.last_sequence or 0)
    return plan


def _split(plans: list[_KeyPlan]) -> tuple[list[_KeyPlan], list[_KeyPlan]]:
    """Keys whose runnable events are all of one known type go together."""
    table = services.appliers()
    together, alone = [], []
    for plan in plans:
        kinds = {(event.topic, event.type) for event in plan.run}
        if (
            len(kinds) > 1
            or any(kind not in table for kind in kinds)
            or (len(plan.run) > 1 and table[kinds.pop()].versioned)
        ):
            alone.append(plan)
        elif plan.run or plan.stale:
            together.append(plan)
    return together, alone


def _apply_together(plans: list[_KeyPlan], now: datetime, report: BatchReport) -> None:
    table = services.appliers()
    payloads = _payloads([plan.run[-1].id for plan in plans if plan.run])
    groups: dict[tuple[str, str], list[tuple[_KeyPlan, object, object]]] = defaultdict(list)
    for plan in plans:
        if not plan.run:
            continue
        kind = (plan.run[0].topic, plan.run[0].type)
        applier = table[kind]
        latest = plan.run[-1]
        groups[kind].append((plan, latest, applier.payload.model_validate(payloads[latest.id])))
    applied_ids: list[int] = []
    progress: list[dict] = []
    for kind, items in groups.items():
        stale_keys = table[kind].apply_many([(plan.key[1], payload) for plan, _, payload in items])
        for plan, latest, _ in items:
            if plan.key[1] not in stale_keys:
                applied_ids.extend(event.id for event in plan.run)
            progress.append(
                {
                    "topic": plan.key[0],
                    "key": plan.key[1],
                    "last_sequence": plan.last_sequence,
                    "last_event_id": latest.event_id,
                    "updated_at": now,
                }
            )
    finished = [event.id for plan in plans for event in (*plan.stale, *plan.run)]
    _finish(finished, set(applied_ids), now)
    _record_progress(progress)
    report.applied += len(applied_ids)
    report.skipped += len(finished) - len(applied_ids)


def _payloads(event_ids: list[int]) -> dict[int, object]:
    """Only the latest event's payload of each key is written; a backlog of many
    versions per key is read without decoding the JSON of the others."""
    found: dict[int, object] = {}
    for start in range(0, len(event_ids), 5000):
        chunk = event_ids[start : start + 5000]
        found |= dict(
            db.session.execute(
                select(InboxEvent.id, InboxEvent.payload).where(_among(InboxEvent.id, chunk))
            ).all()
        )
    return found


def _finish(event_ids: list[int], applied: set[int], now: datetime) -> None:
    """The runs applied, the stale events skipped: one statement per status."""
    for status, ids in (
        (EventStatus.APPLIED.value, [i for i in event_ids if i in applied]),
        (EventStatus.SKIPPED.value, [i for i in event_ids if i not in applied]),
    ):
        for start in range(0, len(ids), 5000):
            db.session.execute(
                update(InboxEvent)
                .where(_among(InboxEvent.id, ids[start : start + 5000]))
                .values(status=status, finished_at=now)
                .execution_options(synchronize_session=False)
            )


def _among(column, ids: list[int]):
    """`column IN (ids)`; on PostgreSQL as `= ANY(array)`, one parameter instead of one
    bind parameter per id to render and convert."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(BigInteger)))
    return column.in_(ids)


def _record_progress(rows: list[dict]) -> None:
    insert_many(
        db.session,
        FeedKey.__table__,
        rows,
        conflict=["topic", "key"],
        update=["last_sequence", "last_event_id", "updated_at"],
    )


def _apply_one_by_one(plan: _KeyPlan, report: BatchReport) -> None:
    """As before sets: each event in its own savepoint, under the lock already held."""
    report.one_by_one += 1
    for _ in range(len(plan.stale) + len(plan.run)):
        step = services.apply_next_event(*plan.key)
        if step.kind == "applied":
            report.applied += 1
        elif step.kind == "skipped":
            report.skipped += 1
        else:
            if step.kind in ("retry", "wait"):
                report.failed += step.kind == "retry"
                report.waiting.append((plan.key, step.delay))
            elif step.kind == "dead":
                report.failed += 1
            return
