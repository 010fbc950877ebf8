"""The development sign-in: only accounts an operator made with `invoke create-user`.

It exists so a newcomer can try every page with one command and no identity
provider. It is off when a provider is configured or DEPLOYMENT=production.
"""

from uuid import UUID

from flask import current_app
from sqlalchemy import select

from app.accounts.errors import UserNotFound
from app.accounts.models import AccountEvent, User
from app.extensions import db

CREATED_BY_OPERATOR = ("created", "cli")


def available() -> bool:
    settings = current_app.extensions["settings"]
    return (
        settings.deployment == "development"
        and settings.auth_mode == "standalone"
        and not settings.oidc_issuer
    )


def _operator_made():
    action, channel = CREATED_BY_OPERATOR
    return select(AccountEvent.user_id).where(
        AccountEvent.action == action, AccountEvent.channel == channel
    )


def accounts() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.id.in_(_operator_made())).order_by(User.created_at, User.id)
        )
    )


def account(raw_id: str) -> User:
    """The operator-made account with this id, or UserNotFound."""
    try:
        user_id = UUID(raw_id)
    except ValueError:
        raise UserNotFound("Choose one of the listed accounts") from None
    user = db.session.scalar(select(User).where(User.id == user_id, User.id.in_(_operator_made())))
    if user is None:
        raise UserNotFound("Only accounts made with `invoke create-user` can be chosen here")
    return user
