"""Credentials that end: a person's cut-off, and revoking their refresh-token chains.

`cut_off` is the one rule for "everything this person held until now stops":
every refresh-token family is revoked, and `credentials_valid_after` is set so
that access tokens (by `iat`) and browser sessions (by their sign-in time) from
before it are refused wherever they are presented. Disabling, rejecting, an
admin's second-factor reset and the person replacing their own factor call it;
re-enabling sets nothing back, and a role change needs none of it (rights are
read from the account at each request). See ADR 0020.

The checks against the cut-off (`issued_before_cut_off`, `refuse_if_cut_off`) are
the doors' (app/authz/accounts.py); they are named here too.
"""

import math
import time
from uuid import UUID

from sqlalchemy import select, update

from app.accounts.models import RefreshToken, User
from app.authz.accounts import issued_before_cut_off, refuse_if_cut_off
from app.database import utc_now
from app.extensions import db
from app.web_sessions.services import end_sessions

__all__ = ["issued_before_cut_off", "refuse_if_cut_off"]


def cut_off(user: User, reason: str, actor: str) -> None:
    """End every credential `user` holds now; what is issued afterwards works.

    The account row is locked first: `/token/refresh` locks it before the token it
    spends, so a refresh racing this cut-off either finishes before it (and its
    successor is revoked here) or sees the revoked token.
    """
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    user.credentials_valid_after = utc_now()
    revoke_user_tokens(user.id, f"{reason} by {actor}")
    # The rows go too (the check above would refuse them anyway): the profile's
    # session list shows only what still works.
    end_sessions(user.id)
    db.session.flush()


def wait_out_cut_off_second(user: User) -> None:
    """Before making an access token: let the second of a recent cut-off pass (≤ 1 s).

    Its `iat` would otherwise be that second, which cannot be told from a token made
    just before the cut-off, and the new token would be refused.
    """
    valid_after = user.credentials_valid_after
    if valid_after is None:
        return
    delay = math.floor(valid_after.timestamp()) + 1 - time.time()
    if 0 < delay <= 1:
        time.sleep(delay)


def revoke_family(family_id: UUID, reason: str) -> None:
    _revoke(RefreshToken.family_id == family_id, reason)


def revoke_user_tokens(user_id: UUID, reason: str) -> None:
    _revoke(RefreshToken.user_id == user_id, reason)


def _revoke(which, reason: str) -> None:
    db.session.execute(
        update(RefreshToken)
        .where(which, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utc_now(), revoked_reason=reason)
    )
