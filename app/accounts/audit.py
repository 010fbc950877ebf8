"""The record of who approved, rejected, disabled or re-roled whom, and through what."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select

from app.accounts.models import AccountEvent, User, UserStatus
from app.database import fetch_page
from app.extensions import db
from app.rest import PageQuery

CHANNELS = ("web", "slack", "cli", "api", "sign-in")

STATUS_ACTIONS = {
    (UserStatus.PENDING, UserStatus.ACTIVE): "approved",
    (UserStatus.PENDING, UserStatus.REJECTED): "rejected",
    (UserStatus.REJECTED, UserStatus.ACTIVE): "approved",
    (UserStatus.ACTIVE, UserStatus.DISABLED): "disabled",
    (UserStatus.DISABLED, UserStatus.ACTIVE): "enabled",
}


def record_event(user_id: UUID, action: str, actor: str, channel: str, detail: str = "") -> None:
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    db.session.add(
        AccountEvent(user_id=user_id, action=action, actor=actor, channel=channel, detail=detail)
    )


@dataclass(frozen=True)
class Decision:
    """The last status change of an account: what, by whom, when."""

    action: str
    actor: str
    at: datetime | None


def last_decision(user: User) -> Decision:
    """From the record; for an account without one, what the account itself says."""
    event = db.session.scalars(
        select(AccountEvent)
        .where(
            AccountEvent.user_id == user.id,
            AccountEvent.action.in_(set(STATUS_ACTIONS.values())),
        )
        .order_by(AccountEvent.created_at.desc(), AccountEvent.id)
        .limit(1)
    ).first()
    if event is not None:
        return Decision(event.action, event.actor, event.created_at)
    return Decision(user.status, user.approved_by or "someone", user.approved_at)


def list_events(query: PageQuery) -> tuple[list[AccountEvent], int, dict[UUID, User]]:
    """Newest first, with the accounts they are about (by id)."""
    statement = select(AccountEvent).order_by(AccountEvent.created_at.desc(), AccountEvent.id)
    events, total = fetch_page(db.session, statement, query.skip, query.limit)
    ids = {event.user_id for event in events}
    people = db.session.scalars(select(User).where(User.id.in_(ids))).all() if ids else []
    return events, total, {person.id: person for person in people}
