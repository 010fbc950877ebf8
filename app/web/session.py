"""Who is signed in, in a browser session, and how far they have proved it.

The session is a row on the server (app/web_sessions; the cookie holds only its
random id): the account id, when the person signed in, when the provider
authenticated them, and when they last passed the second factor. Views use the
decorators of app/authz/pages.py; they never read the session keys themselves.
"""

from datetime import UTC, datetime
from urllib.parse import urlencode
from uuid import UUID

from flask import g, request, session, url_for

from app.accounts import credentials
from app.accounts.models import User, UserStatus
from app.extensions import db
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


def current_person(active_only: bool = False) -> User | None:
    """The signed-in account, or None; with `active_only`, None unless it is active."""
    if "person" not in g:
        g.person = _load_person()
    person = g.person
    if person is not None and active_only and person.status != UserStatus.ACTIVE:
        return None
    return person


def _load_person() -> User | None:
    raw = session.get(PERSON_KEY)
    if not raw:
        return None
    try:
        person = db.session.get(User, UUID(raw))
    except ValueError:
        person = None
    if person is None:
        session.clear()
    elif credentials.issued_before_cut_off(person, session.get(SIGNED_IN_AT_KEY)):
        session.clear()  # disabled, rejected or second factor reset since: sign in again
        return None
    return person


def login_url(next_path: str | None = None) -> str:
    return url_for("identity.login") + "?" + urlencode({"next": next_path or request.full_path})
