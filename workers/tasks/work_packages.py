"""Housekeeping of work packages."""

import logging
from datetime import timedelta

from celery import shared_task
from flask import current_app

from app.database import utc_now
from app.extensions import db
from app.work_packages.services import sweep_expired

log = logging.getLogger(__name__)


@shared_task(name="work_packages.sweep_expired", soft_time_limit=240, time_limit=300)
def sweep_expired_work_packages() -> int:
    """Delete work packages that expired longer ago than the retention."""
    settings = current_app.extensions["settings"]
    swept = sweep_expired(utc_now() - timedelta(days=settings.work_package_retention_days))
    db.session.commit()
    log.info("swept %d expired work packages", swept)
    return swept
