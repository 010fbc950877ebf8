"""API tokens as people see them: the live refresh tokens of their chains.

A chain (family) is one API token from the person's point of view: each use at
`/token/refresh` replaces its live token, so the chain's head is what they hold.
"""

from uuid import UUID

from sqlalchemy import select

from app.accounts.credentials import revoke_family, revoke_user_tokens
from app.accounts.models import RefreshToken, User, UserStatus
from app.accounts.services import issue_refresh_token
from app.database import utc_now
from app.errors import Conflict, NotFound
from app.extensions import db


class ApiTokenNotFound(NotFound):
    """No such API token of yours."""

    code = "api_token_not_found"


class AccountNotActive(Conflict):
    """Only an active account can hold an API token."""

    code = "account_not_active"


def live_tokens(user_id: UUID) -> list[RefreshToken]:
    """The current head of every chain that can still be traded, newest first."""
    return list(
        db.session.scalars(
            select(RefreshToken)
            .where(
                RefreshToken.user_id == user_id,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > utc_now(),
            )
            .order_by(RefreshToken.created_at.desc(), RefreshToken.id)
        )
    )


def create_api_token(user: User) -> str:
    """A new chain for an active account; the token is in the result only.

    Only for a fully authenticated session (the profile page): its access tokens
    say they were made after the second factor.
    """
    if user.status != UserStatus.ACTIVE:
        raise AccountNotActive(f"The account of {user.email} is {user.status}")
    return issue_refresh_token(user.id, after_second_factor=True)


def revoke_api_token(user_id: UUID, family_id: UUID) -> None:
    """Revoke one of the person's own chains; someone else's is 'not found'."""
    owned = db.session.scalar(
        select(RefreshToken.id)
        .where(RefreshToken.user_id == user_id, RefreshToken.family_id == family_id)
        .limit(1)
    )
    if owned is None:
        raise ApiTokenNotFound()
    revoke_family(family_id, "revoked by its owner")
    db.session.flush()


def reissue_api_token(user: User, actor: str) -> str:
    """Replace every token of the account with one new chain (an admin's action)."""
    if user.status != UserStatus.ACTIVE:
        raise AccountNotActive(f"The account of {user.email} is {user.status}; enable it first")
    revoke_user_tokens(user.id, f"replaced by a token reissued by {actor}")
    return issue_refresh_token(user.id)
