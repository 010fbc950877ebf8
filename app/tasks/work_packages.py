"""Housekeeping of work packages."""

import logging
from datetime import timedelta

from celery import shared_task
from flask import current_app

from app.database import utc_now
from app.extensions import db
from app.jobs import services as jobs
from app.jobs.models import JobStatus, Operation
from app.work_packages.services import sweep_expired

log = logging.getLogger(__name__)


@shared_task(name="work_packages.sweep_expired", soft_time_limit=240, time_limit=300)
def sweep_expired_work_packages() -> int:
    """Delete work packages that expired longer ago than the retention."""
    settings = current_app.extensions["settings"]
    job = jobs.record(Operation.SWEEP, "work-packages", "system:beat", "sweeping")
    db.session.commit()
    if job is None:
        return 0  # another sweep is running
    swept = sweep_expired(utc_now() - timedelta(days=settings.work_package_retention_days))
    jobs.finish(job.id, JobStatus.COMPLETED, f"deleted {swept} expired work packages")
    db.session.commit()
    log.info("swept %d expired work packages", swept)
    return swept
