"""Running queued jobs; each ends completed or failed, and never completes twice."""

import logging
from uuid import UUID

from celery import shared_task

from app.extensions import db
from app.jobs import services
from app.jobs.dispatch import enqueue_jobs
from app.jobs.models import JobStatus

log = logging.getLogger(__name__)


@shared_task(name="jobs.run", bind=True, soft_time_limit=1800, time_limit=1900)
def run_job(self, job_id: str) -> str:
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    job = services.claim(UUID(job_id), redelivered)
    db.session.commit()
    if job is None:
        return "not_run"
    try:
        services.run(job)
    except Exception as error:
        db.session.rollback()
        log.warning("job %s failed: %s", job_id, error)
        services.finish(UUID(job_id), JobStatus.FAILED, f"failed: {error}"[:4000])
        db.session.commit()
        return JobStatus.FAILED.value
    services.finish(UUID(job_id), JobStatus.COMPLETED, "completed")
    db.session.commit()
    return JobStatus.COMPLETED.value


@shared_task(name="jobs.requeue_queued", soft_time_limit=60, time_limit=90)
def requeue_queued() -> int:
    """Hand queued jobs to workers again (lost messages, broker down, after maintenance)."""
    ids = services.queued_job_ids()
    db.session.rollback()
    enqueue_jobs(ids)
    return len(ids)
