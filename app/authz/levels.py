"""The two levels of authentication: signed in (provider only) and fully authenticated.

A browser session is fully authenticated while its second factor was passed less
than SECOND_FACTOR_MAX_AGE seconds ago. An internal token this service makes is
fully authenticated when it carries the `amr` claim "mfa" (its refresh token was
made from such a session). Tokens from an external identity provider
(AUTH_MODE=external) are that provider's to vouch for, as with GHGA's auth
service, which makes internal tokens only after the second factor.
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps

from flask import current_app, session

from app.authz.errors import SecondFactorRequired
from app.credentials.internal_tokens import AuthUser
from app.web_sessions.interface import SECOND_FACTOR_AT_KEY, rotate_session

log = logging.getLogger(__name__)

MADE_BEFORE_SECOND_FACTOR = (
    "This needs a token made after your second factor: create an API token in "
    "the portal after entering your code"
)


def second_factor_required() -> bool:
    return current_app.extensions["settings"].require_second_factor


def session_fully_authenticated() -> bool:
    if not second_factor_required():
        return True
    passed_at = session.get(SECOND_FACTOR_AT_KEY)
    if not isinstance(passed_at, int | float):
        return False
    age = datetime.now(UTC).timestamp() - passed_at
    return 0 <= age <= current_app.extensions["settings"].second_factor_max_age


def second_factor_passed_at() -> datetime | None:
    """When this browser session last passed the second factor, if it did."""
    passed_at = session.get(SECOND_FACTOR_AT_KEY)
    if isinstance(passed_at, bool) or not isinstance(passed_at, int | float):
        return None
    return datetime.fromtimestamp(passed_at, UTC)


def mark_second_factor_passed() -> None:
    """Record the passed factor, under a new session id: a cookie copied before it is dead."""
    session[SECOND_FACTOR_AT_KEY] = datetime.now(UTC).timestamp()
    rotate_session()


def token_fully_authenticated(user: AuthUser) -> bool:
    if not second_factor_required():
        return True
    if current_app.extensions["token_keys"].auth_signing is None:
        return True  # an external provider issued it and answers for it
    return user.after_second_factor


def refuse_without_second_factor(user: AuthUser) -> None:
    if not token_fully_authenticated(user):
        raise SecondFactorRequired(MADE_BEFORE_SECOND_FACTOR)


def after_second_factor(view: Callable) -> Callable:
    """Below `internal_token_required`: the caller's token must be fully authenticated."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        refuse_without_second_factor(kwargs["user"])
        return view(*args, **kwargs)

    return wrapper


def warn_when_off(settings) -> None:
    if not settings.require_second_factor:
        log.warning(
            "REQUIRE_SECOND_FACTOR=false: a provider sign-in alone reaches controlled data. "
            "Never run like this outside development."
        )
