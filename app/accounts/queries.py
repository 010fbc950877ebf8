"""Account lookups other domains need, free of the account services' imports."""

from uuid import UUID

from sqlalchemy import exists, or_, select

from app.accounts.models import User, UserStatus
from app.extensions import db

BLOCKED = (UserStatus.DISABLED.value, UserStatus.REJECTED.value)


def user_blocked(user_id_column):
    """SQL: is the account behind `user_id_column` disabled or rejected?

    Spelled with plain equalities (no IN list), so it can be a prepared statement.
    """
    return exists().where(User.id == user_id_column, or_(*(User.status == s for s in BLOCKED)))


def emails_of(user_ids) -> dict[UUID, str]:
    """E-mail addresses by account id, for lists that name people."""
    ids = set(user_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())


def people_labelled(labels) -> dict[str, str]:
    """ "Name (e-mail)" by the label records store for a person ("user:<id>"), so that
    a list says who acted; other labels (applications, operators) are left out."""
    ids = {}
    for label in set(labels):
        if isinstance(label, str) and label.startswith("user:"):
            try:
                ids[UUID(label.removeprefix("user:"))] = label
            except ValueError:
                continue
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
    return {ids[row.id]: f"{row.name} ({row.email})" for row in rows}
