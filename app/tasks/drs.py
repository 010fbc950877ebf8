"""Building each person's DRS stream envelope of a file."""

import logging
from uuid import UUID

from celery import shared_task

from app.drs import services
from app.extensions import db

log = logging.getLogger(__name__)


@shared_task(name="drs.build_envelope", soft_time_limit=3300, time_limit=3600, acks_late=True)
def build_envelope(envelope_id: str) -> str:
    """Fill one envelope; on failure it stays empty and the next request queues it again."""
    try:
        outcome = services.build_envelope(UUID(envelope_id))
        db.session.commit()
        return outcome
    except Exception:
        db.session.rollback()
        log.exception("building DRS envelope %s failed", envelope_id)
        return "failed"
