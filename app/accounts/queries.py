"""Account lookups other domains need, free of the account services' imports."""

from uuid import UUID

from sqlalchemy import exists, or_, select

from app.accounts.errors import AccountDisabled
from app.accounts.models import User, UserStatus
from app.errors import Conflict, NotFound
from app.extensions import db

BLOCKED = (UserStatus.DISABLED.value, UserStatus.REJECTED.value)


def refuse_blocked_user(user_id: UUID) -> None:
    """Tokens of disabled or rejected accounts are refused even before they expire.

    A user without an account here (an external identity provider's, or a
    development token's) is not blocked.
    """
    status = db.session.scalar(select(User.status).where(User.id == user_id))
    if status in BLOCKED:
        raise AccountDisabled()


def user_blocked(user_id_column):
    """SQL: is the account behind `user_id_column` disabled or rejected?

    Spelled with plain equalities (no IN list), so it can be a prepared statement.
    """
    return exists().where(User.id == user_id_column, or_(*(User.status == s for s in BLOCKED)))


class AccountNotFound(NotFound):
    """No account matches."""

    code = "account_not_found"


class AccountAmbiguous(Conflict):
    """More than one account matches."""

    code = "account_ambiguous"


def find_account(id_or_email: str) -> User:
    """The one account with this id, or the only one with this e-mail address (any case)."""
    text = id_or_email.strip()
    try:
        found = [account] if (account := db.session.get(User, UUID(text))) else []
    except ValueError:
        found = list(
            db.session.scalars(select(User).where(User.email_key == text.lower()).limit(2))
        )
    if not found:
        raise AccountNotFound(f"No account has the id or e-mail address {text!r}")
    if len(found) > 1:
        raise AccountAmbiguous(f"Several accounts use {text!r}; give the account id instead")
    return found[0]


def emails_of(user_ids) -> dict[UUID, str]:
    """E-mail addresses by account id, for lists that name people."""
    ids = set(user_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())
