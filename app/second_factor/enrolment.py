"""Setting up a second factor: the new key belongs to the browser session that showed it.

The key waiting for its first code is kept sealed (`secret_box`) in the session
under one key, with the account it is for and when it was made. Another session
of the same account never sees it and cannot confirm it; it is gone when the
session ends (a new sign-in clears the session) or after ENROLMENT_TIME. Setting
up or replacing a factor also needs a fresh provider sign-in: the provider's
`auth_time` at most SECOND_FACTOR_ENROL_MAX_AGE seconds ago (see ADR 0014,
enrolment rule).
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from flask import current_app, session

from app.accounts.models import User
from app.second_factor import totp
from app.second_factor.errors import NoEnrolment
from app.second_factor.secret_box import UnreadableSecret, open_secret, seal_secret
from app.web_sessions.interface import AUTH_TIME_KEY

ENROLMENT_KEY = "second_factor_enrolment"
ENROLMENT_TIME = timedelta(minutes=10)
#: Clocks of provider and service may differ a little.
CLOCK_SKEW_SECONDS = 60


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    replaces_existing: bool


def sign_in_fresh() -> bool:
    """The provider authenticated this session's person within SECOND_FACTOR_ENROL_MAX_AGE."""
    auth_time = session.get(AUTH_TIME_KEY)
    if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
        return False
    age = _now() - auth_time
    max_age = current_app.extensions["settings"].second_factor_enrol_max_age
    return -CLOCK_SKEW_SECONDS <= age <= max_age


def provider_sign_in_time() -> dict:
    """This session's provider sign-in time as `sign_in` takes it (empty when unknown),
    for a session that starts anew without the person seeing the provider again."""
    auth_time = session.get(AUTH_TIME_KEY)
    if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
        return {}
    return {AUTH_TIME_KEY: auth_time}


def start(person: User) -> Enrolment:
    """The key waiting in this session, or a new one (a reload shows the same key)."""
    secret = _waiting(person.id)
    if secret is None:
        secret = totp.new_secret()
        payload = {"user_id": str(person.id), "secret": secret, "started_at": _now()}
        session[ENROLMENT_KEY] = seal_secret(json.dumps(payload))
    return Enrolment(
        secret,
        totp.provisioning_uri(secret, person.email),
        replaces_existing=totp.is_enrolled(person.id),
    )


def waiting_secret(user_id: UUID) -> str:
    """The key this session is setting up for `user_id`; NoEnrolment when there is none."""
    secret = _waiting(user_id)
    if secret is None:
        minutes = int(ENROLMENT_TIME.total_seconds() // 60)
        raise NoEnrolment(
            "No new key is waiting in this browser session: a key belongs to the session "
            f"that showed it and lasts {minutes} minutes. Scan the new key below and enter "
            "its code."
        )
    return secret


def finish() -> None:
    """The key was confirmed (or must not be used again): drop it from the session."""
    session.pop(ENROLMENT_KEY, None)


def _waiting(user_id: UUID) -> str | None:
    sealed = session.get(ENROLMENT_KEY)
    if not isinstance(sealed, str):
        return None
    try:
        payload = json.loads(open_secret(sealed))
    except (UnreadableSecret, ValueError):
        return None
    age = _now() - payload.get("started_at", 0)
    if payload.get("user_id") != str(user_id) or not 0 <= age <= ENROLMENT_TIME.total_seconds():
        finish()
        return None
    return payload["secret"]


def _now() -> float:
    return datetime.now(UTC).timestamp()
