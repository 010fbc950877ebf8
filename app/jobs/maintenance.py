"""Maintenance mode: while paused, no new jobs are accepted and queued ones wait."""

from sqlalchemy import select

from app.extensions import db
from app.jobs.models import MaintenanceChange
from app.jobs.schemas import MaintenanceView

NOT_PAUSED = MaintenanceView(msg="OK", paused=False, timestamp=None, set_by=None)


def current() -> MaintenanceView:
    latest = db.session.scalars(
        select(MaintenanceChange).order_by(MaintenanceChange.id.desc()).limit(1)
    ).first()
    return _view(latest) if latest else NOT_PAUSED


def change(msg: str, paused: bool, actor: str) -> MaintenanceView:
    record = MaintenanceChange(msg=msg, paused=paused, set_by=actor)
    db.session.add(record)
    db.session.flush()
    return _view(record)


HISTORY_LIMIT = 1000


def history() -> list[MaintenanceView]:
    """The newest changes first, at most HISTORY_LIMIT of them."""
    newest = select(MaintenanceChange).order_by(MaintenanceChange.id.desc())
    rows = db.session.scalars(newest.limit(HISTORY_LIMIT))
    return [_view(row) for row in rows]


def _view(record: MaintenanceChange) -> MaintenanceView:
    return MaintenanceView(
        msg=record.msg, paused=record.paused, timestamp=record.timestamp, set_by=record.set_by
    )
