"""Ending, listing and sweeping people's browser sessions.

Services flush; the caller's request (or task) commits.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from flask import current_app, has_request_context
from sqlalchemy import and_, delete, not_, select

from app.database import utc_now
from app.extensions import db
from app.web_sessions.interface import (
    current_session_hash,
    expired_rows,
    hash_session_id,
    new_session_id,
)
from app.web_sessions.models import WebSession


@dataclass(frozen=True)
class SessionView:
    """A live session as its owner sees it in the list on the profile page."""

    created_at: datetime
    last_seen_at: datetime
    this_browser: bool


def end_sessions(user_id: UUID, except_current: bool = False) -> int:
    """Delete the person's sessions (their cookies then open nothing); how many went.

    With `except_current`, the session of the request calling this survives.
    """
    statement = delete(WebSession).where(WebSession.user_id == user_id)
    keep = current_session_hash() if except_current and has_request_context() else None
    if keep is not None:
        statement = statement.where(WebSession.id_hash != keep)
    return db.session.execute(statement).rowcount


def live_sessions(user_id: UUID) -> list[SessionView]:
    """The person's sessions that have not timed out, the most recently used first."""
    now = utc_now()
    settings = current_app.extensions["settings"]
    current = current_session_hash() if has_request_context() else None
    rows = db.session.execute(
        select(WebSession.id_hash, WebSession.created_at, WebSession.last_seen_at)
        .where(and_(WebSession.user_id == user_id, not_(expired_rows(now, settings))))
        .order_by(WebSession.last_seen_at.desc(), WebSession.created_at.desc())
    )
    return [
        SessionView(row.created_at, row.last_seen_at, this_browser=row.id_hash == current)
        for row in rows
    ]


def sweep_expired() -> int:
    """Delete every session past its idle or absolute timeout; how many went."""
    settings = current_app.extensions["settings"]
    return db.session.execute(delete(WebSession).where(expired_rows(utc_now(), settings))).rowcount


def start_session(user_id: UUID, second_factor_at: datetime | None = None) -> str:
    """A signed-in session made outside a browser; returns the cookie value for it.

    For tests and tools that need a browser already signed in; people get theirs
    from `app.web.session.sign_in`.
    """
    session_id, now = new_session_id(), utc_now()
    db.session.add(
        WebSession(
            id_hash=hash_session_id(session_id),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            second_factor_at=second_factor_at,
            auth_time=now,
            data={},
        )
    )
    db.session.flush()
    return session_id
