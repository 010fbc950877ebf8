"""Verifying closed uploads."""

import logging
from datetime import timedelta
from uuid import UUID

from celery import shared_task
from sqlalchemy import select

from app.database import utc_now
from app.extensions import db
from app.jobs import services as jobs
from app.jobs.models import JobStatus, Operation
from app.transfer import services
from app.transfer.dispatch import enqueue_verification
from app.transfer.models import FileUpload, UploadState
from app.unit_of_work import commit

log = logging.getLogger(__name__)


@shared_task(name="transfer.verify_upload", soft_time_limit=3300, time_limit=3600)
def verify_upload(file_id: str) -> str:
    """Verify one upload; whatever happens, it ends completed or failed (and so does its job)."""
    job = jobs.record(Operation.UPLOAD_VERIFY, file_id, "system:worker", "verifying upload")
    db.session.commit()
    state = _verify(file_id)
    if job is not None:
        outcome = JobStatus.COMPLETED if state == UploadState.COMPLETED else JobStatus.FAILED
        jobs.finish(job.id, outcome, f"upload {state}")
        db.session.commit()
    return state


def _verify(file_id: str) -> str:
    try:
        state = services.verify_upload(UUID(file_id))
        commit()  # then the staged upload is discarded (after_commit)
        return state
    except Exception:
        db.session.rollback()
        log.exception("verification of %s failed unexpectedly", file_id)
        upload = db.session.get(FileUpload, UUID(file_id), with_for_update=True)
        if upload is not None and upload.state == UploadState.INBOX:
            upload.state = UploadState.FAILED.value
            upload.failure_reason = "internal error during verification"
            upload.finished_at = utc_now()
        db.session.commit()
        return UploadState.FAILED.value


@shared_task(name="transfer.requeue_verifications", soft_time_limit=60, time_limit=90)
def requeue_verifications(older_than_seconds: float = 60.0) -> int:
    """Enqueue closed uploads still waiting (lost messages, broker down at close)."""
    waiting = db.session.scalars(
        select(FileUpload.id).where(
            FileUpload.state == UploadState.INBOX.value,
            FileUpload.closed_at < utc_now() - timedelta(seconds=older_than_seconds),
        )
    ).all()
    db.session.rollback()
    for file_id in waiting:
        enqueue_verification(file_id)
    return len(waiting)
