"""Signing a person in and out of a browser session (who is signed in is read by
app/authz/sessions.py).

The session is a row on the server (app/web_sessions; the cookie holds only its
random id): the account id, when the person signed in, when the provider
authenticated them, and when they last passed the second factor. Views use the
decorators of app/authz/pages.py; they never read the session keys themselves.
"""

from datetime import UTC, datetime

from flask import g, session

from app.accounts.models import User
from app.web_sessions.interface import (
    AUTH_TIME_KEY,
    PERSON_KEY,
    SECOND_FACTOR_AT_KEY,
    SIGNED_IN_AT_KEY,
    rotate_session,
)

__all__ = ["AUTH_TIME_KEY", "PERSON_KEY", "SECOND_FACTOR_AT_KEY", "SIGNED_IN_AT_KEY"]


def sign_in(user: User, **extra) -> None:
    """Start a new session for `user` under a new id; nothing of the previous one survives.

    `auth_time` among `extra` (epoch seconds or a datetime) is when the provider
    authenticated the person; without it, now.
    """
    now = datetime.now(UTC).timestamp()
    session.clear()
    rotate_session()
    session[PERSON_KEY] = str(user.id)
    session[SIGNED_IN_AT_KEY] = now
    session[AUTH_TIME_KEY] = now
    session.update(extra)
    if isinstance(session[AUTH_TIME_KEY], datetime):
        session[AUTH_TIME_KEY] = session[AUTH_TIME_KEY].timestamp()
    g.pop("person", None)


def sign_out() -> None:
    """End this browser's session: its row goes, and its cookie opens nothing any more."""
    session.clear()
    rotate_session()
    g.pop("person", None)
