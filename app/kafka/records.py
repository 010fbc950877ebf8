"""Turning a Kafka record, as hexkit publishes it, into an inbox event or a rejection.

hexkit's publisher writes the resource key as the record key, the JSON payload as
the value, and the headers `type`, `event_id` and `correlation_id` as bytes. A
record is checked exactly as `POST /events` checks an event (the same validation,
so the same rules); one that fails can never succeed and is rejected, not retried.
Whatever a record holds, reading it never raises: a value nested too deep, too
large a number, bytes that are not UTF-8, or anything else a decoder or validator
raises makes it a rejected record with the reason (ADR 0022), so one record can
never stop the consumer or hold up its partition.
"""

import json
import logging
import re
from dataclasses import dataclass
from uuid import uuid4

from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json

from app.errors import DomainError
from app.feeds.schemas import EventEnvelope, EventId
from app.feeds.validation import validate_event
from app.rest.storable_text import may_hold_unstorable_text

log = logging.getLogger(__name__)

_EVENT_ID = TypeAdapter(EventId)
# A float literal that may exceed 1.8e308: a three-digit exponent (JSON writes a digit
# before it) or 300 digits in a row (a superset: the same in a string just costs the
# exact check). Two patterns, not one alternation: Python's engine tries every
# alternative at every byte, which made this a quarter of reading a record.
_LARGE_EXPONENT = re.compile(rb"[0-9][eE][-+]?[0-9]{3}")
_LONG_NUMBER = re.compile(rb"[0-9]{300}")


class MissingHeader(ValueError):
    """A header hexkit always sends is missing."""


class NotAnObject(ValueError):
    """The value is JSON, but not an object."""


class NotJson(ValueError):
    """The value cannot be decoded as JSON (syntax, encoding, depth, NaN, ...)."""


class Unreadable(RuntimeError):
    """Reading the record raised something no rule foresaw; the record is rejected."""


@dataclass(frozen=True)
class Coordinates:
    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True)
class ValidRecord:
    event: EventEnvelope
    correlation_id: str
    where: Coordinates


@dataclass(frozen=True)
class RejectedRecord:
    """A record that can never be applied, with what the dead letter topic needs."""

    event_id: str
    type_: str
    key: str
    payload: object
    correlation_id: str
    exc_class: str
    exc_msg: str
    where: Coordinates
    raw_key: bytes | None
    raw_value: bytes | None


def read_record(message, generate_correlation_id: bool) -> ValidRecord | RejectedRecord:
    """A confluent-kafka message as a valid inbox event, or the reason it is rejected.

    Never raises for what a record holds: whatever escapes the rules below (a
    RecursionError, a MemoryError, a bug in a validator) rejects the record too.
    """
    try:
        return _read(message, generate_correlation_id)
    except Exception as error:
        where = Coordinates(message.topic(), message.partition(), message.offset())
        log.exception("record %s could not be read", where)
        failure = Unreadable(f"{type(error).__name__}: {str(error)[:500]}")
        return RejectedRecord(
            event_id=f"kafka:{where}",
            type_=_text(_header(message, "type")),
            key=_text(message.key())[:256],
            payload=None,
            correlation_id=str(uuid4()),
            exc_class=type(failure).__name__,
            exc_msg=f"the record could not be read: {failure}",
            where=where,
            raw_key=message.key(),
            raw_value=message.value(),
        )


def _read(message, generate_correlation_id: bool) -> ValidRecord | RejectedRecord:
    where = Coordinates(message.topic(), message.partition(), message.offset())
    headers = _headers(message.headers())
    key = _text(message.key())
    type_ = headers.get("type", "")
    # Without a usable event_id the record's place in its partition identifies it,
    # so a redelivery is still a duplicate (hexkit would invent a random one).
    event_id = _valid_event_id(headers.get("event_id")) or f"kafka:{where}"
    correlation_id = headers.get("correlation_id", "")
    payload: object = None

    def rejected(error: Exception, message_text: str) -> RejectedRecord:
        return RejectedRecord(
            event_id=event_id,
            type_=type_,
            key=key,
            payload=payload,
            correlation_id=correlation_id or str(uuid4()),
            exc_class=type(error).__name__,
            exc_msg=message_text,
            where=where,
            raw_key=message.key(),
            raw_value=message.value(),
        )

    try:
        payload = decode_value(message.value())
    except NotJson as error:
        return rejected(error, f"the value is not JSON: {error}")
    if not isinstance(payload, dict):
        error = NotAnObject("the value must be a JSON object")
        return rejected(error, str(error))
    if not type_:
        error = MissingHeader("no `type` header")
        return rejected(error, str(error))
    if not correlation_id:
        if not generate_correlation_id:
            error = MissingHeader("no `correlation_id` header (GENERATE_CORRELATION_ID is false)")
            return rejected(error, str(error))
        correlation_id = str(uuid4())
        log.info("record %s had no correlation_id; generated %s", where, correlation_id)
    try:
        event = EventEnvelope(
            event_id=event_id, topic=where.topic, type=type_, key=key, payload=payload
        )
        # Most records have no `\u` escape, so no character the database refuses.
        text_checked = not may_hold_unstorable_text(message.value() or b"")
        validate_event(event, payload_text_checked=text_checked)
    except ValidationError as error:
        return rejected(error, _pydantic_problems(error))
    except DomainError as error:  # the feed's validation, as POST /events answers 422
        return rejected(error, _feed_problems(error))
    return ValidRecord(event, correlation_id, where)


def decode_value(value: bytes | None) -> object:
    """The record's value as JSON, decoded with a bounded depth (pydantic's parser).

    Python's own `json` recurses once per level and raises RecursionError on a
    value of 100,000 `[`; this parser refuses anything deeper than 200 levels with
    a ValueError. NaN and Infinity, written so or reached by a number too large for
    a float (`1e999`), are refused too: no JSON column can hold them.
    """
    try:
        decoded = from_json(value or b"", allow_inf_nan=False)
        if _may_be_infinite(value or b""):  # re-encoding costs more than the parse
            json.dumps(decoded, allow_nan=False)  # raises ValueError on an infinite float
    except ValueError as error:
        raise NotJson(str(error)) from None
    return decoded


def _may_be_infinite(value: bytes) -> bool:
    if _LARGE_EXPONENT.search(value):
        return True
    return len(value) >= 300 and _LONG_NUMBER.search(value) is not None


def _header(message, name: str) -> bytes | None:
    try:
        return next((value for key, value in message.headers() or [] if key == name), None)
    except Exception:  # only called after reading failed: a header it cannot read is left out
        return None


def _headers(pairs) -> dict[str, str]:
    return {name: _text(value) for name, value in pairs or []}


def _text(value: bytes | None) -> str:
    return value.decode("utf-8", errors="replace") if value is not None else ""


def _valid_event_id(value: str | None) -> str | None:
    try:
        return _EVENT_ID.validate_python(value)
    except ValidationError:
        return None


def _pydantic_problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'event'}: {item['msg']}"
        for item in error.errors()
    )


def _feed_problems(error: DomainError) -> str:
    detail = error.detail
    if not isinstance(detail, list):
        return str(detail)
    # Each problem is located relative to the event (["payload", field...]); a location
    # as in a request body (["body", index, ...]) loses its first two parts.
    return "; ".join(f"{_where(item.get('loc', []))}: {item.get('msg')}" for item in detail)


def _where(location: list) -> str:
    if location[:1] == ["body"]:
        location = location[2:]
    return ".".join(str(part) for part in location) or "event"
