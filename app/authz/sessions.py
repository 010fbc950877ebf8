"""Who is signed in, in this browser session (the pages' door reads it; ADR 23).

The session is a row on the server (app/web_sessions; the cookie holds only its
random id): the account id, when the person signed in, when the provider
authenticated them, and when they last passed the second factor. Views use the
decorators of app/authz/pages.py; they never read the session keys themselves.
"""

from urllib.parse import urlencode
from uuid import UUID

from flask import g, request, session, url_for

from app.authz.accounts import Account, find_account, issued_before_cut_off
from app.web_sessions.interface import PERSON_KEY, SIGNED_IN_AT_KEY


def current_person(active_only: bool = False) -> Account | None:
    """The signed-in account, or None; with `active_only`, None unless it is active."""
    if "person" not in g:
        g.person = _load_person()
    person = g.person
    if person is not None and active_only and not person.is_active:
        return None
    return person


def _load_person() -> Account | None:
    raw = session.get(PERSON_KEY)
    if not raw:
        return None
    try:
        person = find_account(UUID(raw))
    except ValueError:
        person = None
    if person is None:
        session.clear()
    elif issued_before_cut_off(person, session.get(SIGNED_IN_AT_KEY)):
        session.clear()  # disabled, rejected or second factor reset since: sign in again
        return None
    return person


def login_url(next_path: str | None = None) -> str:
    return url_for("identity.login") + "?" + urlencode({"next": next_path or request.full_path})
