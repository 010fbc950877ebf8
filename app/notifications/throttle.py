"""How often a person can make the service message others (ADR 22).

Two rules, counted where the rate limits are (flask-limiter's storage: Redis when
configured, else process memory): a per-person limit on each action that sends a
message, refused with a 429 and a sentence, and at most one message about the
same subject (an address, a requested dataset) per window, so that repeating an
allowed action does not repeat the message.
"""

import logging
import math
import time

from limits import parse

from app.errors import DomainError
from app.extensions import limiter

log = logging.getLogger(__name__)


class TooOften(DomainError):
    """The person did this too often; they may again later."""

    status, code = 429, "too_many_requests"

    def headers(self) -> dict:
        return {"Retry-After": str(self.retry_after)}

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after


def refuse_too_often(person_id, action: str, limit: str, sentence: str) -> None:
    """Count one `action` of the person; beyond `limit` ("5 per hour") raise TooOften."""
    item = parse(limit)
    identifiers = ("person", action, str(person_id))
    if not _hit(item, *identifiers):
        raise TooOften(sentence, retry_after=_seconds_left(item, identifiers))


def first_notice(minutes: int, *subject: str) -> bool:
    """True for the first message about `subject` in `minutes` (always, with 0)."""
    if minutes <= 0:
        return True
    return _hit(parse(f"1 per {minutes} minutes"), "notice", *subject)


def _seconds_left(item, identifiers: tuple) -> int:
    """Until the window lets the person act again (at least 1 s)."""
    try:
        reset_at = limiter.limiter.get_window_stats(item, *identifiers).reset_time
    except Exception:  # the store went away between the count and now: the whole window
        return item.get_expiry()
    return max(1, math.ceil(reset_at - time.time()))


def _hit(item, *identifiers: str) -> bool:
    try:
        return limiter.limiter.hit(item, *identifiers)
    except Exception as error:  # the store is down: let the action and its message through
        log.warning("notification throttle unavailable (%s); not counted", type(error).__name__)
        return True
