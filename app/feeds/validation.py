"""Whether an event can ever be applied, decided once, at ingest (HTTP or Kafka).

An event refused here never enters its key's queue, so it cannot hold up the
events after it.
"""

from pydantic import ValidationError

from app.errors import RequestValidationFailed
from app.feeds.appliers import Applier
from app.feeds.schemas import EventEnvelope
from app.feeds.services import appliers
from app.rest.storable_text import UNSTORABLE, unstorable_text_errors


class InvalidEvent(RequestValidationFailed):
    """The event can never be applied; `detail` lists why, by field."""


def validate_batch(events: list[EventEnvelope], *, payload_text_checked: bool = False) -> None:
    """Every event's topic, type, key and payload, or one 422 naming each bad event."""
    problems: list[dict] = []
    for index, event in enumerate(events):
        try:
            validate_event(event, payload_text_checked=payload_text_checked)
        except InvalidEvent as error:
            problems.extend({**p, "loc": ["body", index, *p["loc"]]} for p in error.detail)
    if problems:
        raise RequestValidationFailed(problems)


def validate_event(
    event: EventEnvelope | dict, *, payload_text_checked: bool = False
) -> EventEnvelope:
    """The event, checked completely: envelope, text the database can store, a known
    topic and type, its key and its payload. Raises InvalidEvent (locations relative
    to the event) for an event that could never be applied, so that it never enters
    its key's queue. HTTP ingest and the Kafka consumer both call this.

    `payload_text_checked`: the caller saw the payload's raw JSON and it cannot hold
    unstorable text (`may_hold_unstorable_text`), so the walk over every string of
    the payload is skipped; the envelope's strings are checked all the same.
    """
    if not isinstance(event, EventEnvelope):
        event = _envelope(event)
    unstorable = _unstorable_text(event, payload_text_checked)
    if unstorable:
        raise InvalidEvent(
            [{**p, "msg": f"event {_printable(event.event_id)}: {p['msg']}"} for p in unstorable]
        )
    table = appliers()
    applier = table.get((event.topic, event.type))
    if applier is None:
        known = ", ".join(f"{t}/{k}" for t, k in sorted(table))
        raise InvalidEvent(
            [
                _problem(
                    ["type"],
                    f"event {event.event_id}: unknown topic and type "
                    f"{event.topic}/{event.type}; known: {known}",
                    "unknown_event_type",
                )
            ]
        )
    problems = _check_event(event, applier)
    if problems:
        raise InvalidEvent(problems)
    return event


def _unstorable_text(event: EventEnvelope, payload_text_checked: bool) -> list[dict]:
    envelope = (event.event_id, event.topic, event.type, event.key)
    # One search over the four strings joined finds any bad character (joining never
    # pairs two surrogates: a str holds code points); the walk that names the field
    # runs only then. Per Kafka record this was a fifth of reading it.
    if payload_text_checked and not UNSTORABLE.search("".join(envelope)):
        return []
    checked = dict(zip(("event_id", "topic", "type", "key"), envelope, strict=True))
    if not payload_text_checked:
        checked["payload"] = event.payload
    return unstorable_text_errors(checked, [])


def _envelope(raw: dict) -> EventEnvelope:
    unstorable = unstorable_text_errors(raw, [])
    if unstorable:
        raise InvalidEvent(unstorable)
    try:
        return EventEnvelope.model_validate(raw)
    except ValidationError as error:
        raise InvalidEvent.from_pydantic(error, "") from None


def _printable(text: str) -> str:
    return UNSTORABLE.sub("\ufffd", text)


def _check_event(event: EventEnvelope, applier: Applier) -> list[dict]:
    problems = []
    try:
        applier.key.validate_python(event.key)
    except ValidationError as error:
        message = error.errors()[0]["msg"]
        problems.append(_problem(["key"], f"event {event.event_id}: {message}", "key"))
    try:
        payload = applier.payload.model_validate(event.payload)
    except ValidationError as error:
        for item in error.errors():
            problems.append(
                _problem(
                    ["payload", *item["loc"]],
                    f"event {event.event_id}: {item['msg']}",
                    item["type"],
                )
            )
        return problems
    if applier.key_field and str(getattr(payload, applier.key_field)) != event.key:
        problems.append(
            _problem(
                ["key"],
                f"event {event.event_id}: key must equal payload.{applier.key_field}",
                "key_mismatch",
            )
        )
    return problems


def _problem(loc: list, msg: str, kind: str) -> dict:
    return {"loc": loc, "msg": msg, "type": kind}
