"""Housekeeping of browser sessions."""

import logging

from celery import shared_task

from app.extensions import db
from app.web_sessions.services import sweep_expired

log = logging.getLogger(__name__)


@shared_task(name="web_sessions.sweep_expired", soft_time_limit=60, time_limit=90)
def sweep_expired_sessions() -> int:
    """Delete sessions past their idle or absolute timeout (sign-ins sweep too)."""
    try:
        swept = sweep_expired()
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("sweeping expired browser sessions failed; the next run tries again")
        return 0
    log.info("swept %d expired browser sessions", swept)
    return swept
