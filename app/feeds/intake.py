"""Events into the inbox: stored a batch at a time, rejected, or dead on arrival.

`POST /events` and the Kafka consumer both store hundreds of events per
transaction through `ingest_batch`: PostgreSQL's COPY on PostgreSQL
(`inbox_copy`), one multi-row statement per table on SQLite. The consumer cannot
answer a producer with a 422: a record that can never be
applied is kept as `rejected` (finished, so it holds back nothing of its key), and
records it could not store as pending within its retries are stored `dead`, the
state an operator already lists, replays and discards.
"""

from datetime import datetime

from sqlalchemy import update

from app.database import insert_ignoring_conflicts, utc_now
from app.database.many_rows import insert_many
from app.extensions import db
from app.feeds.inbox_copy import copy_pending
from app.feeds.models import EventStatus, FeedKey, InboxEvent
from app.feeds.schemas import EventEnvelope, IngestResult
from app.rest.storable_text import UNSTORABLE, unstorable_text_errors

# Column widths of `inbox_event` (see models.py).
_EVENT_ID_LENGTH, _NAME_LENGTH, _KEY_LENGTH, _ERROR_LENGTH = 200, 200, 256, 2000


def pending_row(event: EventEnvelope, received_from: str, now: datetime) -> dict:
    """The inbox row of a newly received event (HTTP ingest and the Kafka consumer)."""
    return {
        "event_id": event.event_id,
        "topic": event.topic,
        "type": event.type,
        "key": event.key,
        "sequence": event.sequence,
        "payload": event.payload,
        "status": EventStatus.PENDING.value,
        "attempts": 0,
        "received_at": now,
        "next_attempt_at": now,
        "received_from": received_from,
    }


def ingest(events: list[EventEnvelope], received_from: str) -> list[IngestResult]:
    """Store new events as pending; an `event_id` seen before (or earlier in the list)
    is a duplicate."""
    stored = ingest_batch([(event, received_from) for event in events])
    results = []
    for event in events:
        accepted = event.event_id in stored
        stored.discard(event.event_id)  # a repeat later in the list is a duplicate
        results.append(
            IngestResult(event_id=event.event_id, status="accepted" if accepted else "duplicate")
        )
    return results


def ingest_batch(events: list[tuple[EventEnvelope, str]]) -> set[str]:
    """Store (event, received_from) pairs as pending, in list order; returns the new ids.

    An `event_id` stored before, or earlier in the list, is a duplicate and left
    alone.
    """
    if not events:
        return set()
    now = utc_now()
    rows = [pending_row(event, received_from, now) for event, received_from in events]
    if db.session.get_bind().dialect.name == "postgresql":
        return copy_pending(db.session, rows, now)
    # SQLite (the embedded default): one statement per table.
    keys = {(row["topic"], row["key"]): None for row in rows}
    insert_many(
        db.session,
        FeedKey.__table__,
        [{"topic": topic, "key": key} for topic, key in keys],
        conflict=["topic", "key"],
    )
    return set(
        insert_many(
            db.session, InboxEvent.__table__, rows, conflict=["event_id"], returning="event_id"
        )
    )


def record_rejected(
    *,
    event_id: str,
    topic: str,
    type_: str,
    key: str,
    payload: object,
    error: str,
    received_from: str,
) -> bool:
    """Store an event that can never be applied; False if its `event_id` is already stored.

    Whatever the producer sent is cut to what the columns can hold: a text the
    database cannot store (a NUL character) is replaced, a payload that is not a
    storable JSON object is kept as `{}` (the dead letter topic has the original).
    """
    now = utc_now()
    inserted = insert_ignoring_conflicts(
        db.session,
        InboxEvent,
        {
            "event_id": _storable(event_id)[:_EVENT_ID_LENGTH],
            "topic": _storable(topic)[:_NAME_LENGTH],
            "type": _storable(type_)[:_NAME_LENGTH],
            "key": _storable(key)[:_KEY_LENGTH],
            "sequence": None,
            "payload": _storable_payload(payload),
            "status": EventStatus.REJECTED.value,
            "attempts": 0,
            "last_error": _storable(error)[:_ERROR_LENGTH],
            "received_at": now,
            "next_attempt_at": now,
            "finished_at": now,
            "received_from": _storable(received_from)[:_KEY_LENGTH],
        },
        ["event_id"],
    )
    return inserted is not None


def mark_dead(event_ids: set[str], error: str) -> int:
    """Pending events that could not be stored normally become dead, with the error."""
    if not event_ids:
        return 0
    result = db.session.execute(
        update(InboxEvent)
        .where(
            InboxEvent.event_id.in_(event_ids),
            InboxEvent.status == EventStatus.PENDING.value,
        )
        .values(
            status=EventStatus.DEAD.value,
            last_error=_storable(error)[:_ERROR_LENGTH],
            finished_at=utc_now(),
        )
    )
    return result.rowcount


def _storable(text: str) -> str:
    return UNSTORABLE.sub("\ufffd", text)


def _storable_payload(payload: object) -> dict:
    if not isinstance(payload, dict) or unstorable_text_errors(payload, []):
        return {}
    return payload
