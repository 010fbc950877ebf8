"""Who is signed in, in a browser session, and how far they have proved it.

The session is a row on the server (app/web_sessions; the cookie holds only its
random id): the account id, when the person signed in, when the provider
authenticated them, and when they last passed the second factor. Views use the
decorators; they never read the session keys themselves.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from urllib.parse import urlencode
from uuid import UUID

from flask import g, redirect, request, session, url_for

from app.accounts import credentials
from app.accounts.models import User, UserStatus
from app.errors import Forbidden
from app.extensions import db
from app.second_factor.errors import SecondFactorRequired
from app.second_factor.levels import session_fully_authenticated
from app.web_sessions.interface import (
    AUTH_TIME_KEY,
    PERSON_KEY,
    SECOND_FACTOR_AT_KEY,
    SIGNED_IN_AT_KEY,
    rotate_session,
)

SAFE_METHODS = frozenset({"GET", "HEAD"})

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


def person_role(user: User) -> str:
    """`researcher`, `steward` or `admin` (the identity feature keeps it on the account)."""
    role = getattr(user, "role", None)
    if role:
        return role
    return "admin" if user.is_admin else "researcher"


def login_url(next_path: str | None = None) -> str:
    return url_for("identity.login") + "?" + urlencode({"next": next_path or request.full_path})


def person_required(view: Callable) -> Callable:
    """A signed-in, active person; anonymous browsers go to the sign-in page.

    A signed-in person who is not active (pending, rejected, disabled) is sent to
    the page that explains their status.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        person = current_person()
        if person is None:
            return redirect(login_url(request.full_path.rstrip("?")))
        if person.status != UserStatus.ACTIVE:
            return redirect(url_for("identity.status"))
        return view(*args, **kwargs)

    return wrapper


def role_required(*roles: str) -> Callable:
    """A fully authenticated, active person holding one of `roles`.

    Anonymous browsers go to the sign-in page; every other signed-in person
    (pending ones too) gets a 403 page. Steward and admin actions need the second
    factor, so a holder of the role without it is asked for it (see
    `fully_authenticated`).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            person = current_person()
            if person is None:
                return redirect(login_url(request.full_path.rstrip("?")))
            # A pending person is signed in but holds no role yet: refused, not redirected.
            if person.status != UserStatus.ACTIVE or person_role(person) not in roles:
                raise Forbidden(
                    "This page is for " + " or ".join(f"{r}s" for r in roles) + ".",
                    code="role_required",
                )
            return _second_factor_gate() or view(*args, **kwargs)

        return wrapper

    return decorator


def fully_authenticated(view: Callable) -> Callable:
    """An active person who has also passed the second factor in this session.

    Within SECOND_FACTOR_MAX_AGE of passing it; a page asked for by GET sends the
    person to the second-factor page and back (`next=`), a form sent without it
    is refused (403) so that nothing is done behind the person's back. With
    REQUIRE_SECOND_FACTOR=false every active person passes.
    """

    @person_required
    @wraps(view)
    def wrapper(*args, **kwargs):
        return _second_factor_gate() or view(*args, **kwargs)

    return wrapper


def _second_factor_gate():
    """None when the session is fully authenticated; else a redirect, or a 403 for forms."""
    if session_fully_authenticated():
        return None
    if request.method in SAFE_METHODS:
        return redirect(url_for("second_factor.verify", next=request.full_path.rstrip("?")))
    raise SecondFactorRequired(
        "This needs your second factor in this session: enter your code on the "
        "second-factor page first."
    )
