"""Handing jobs to the workers after the commit."""

import logging
from uuid import UUID

from flask import current_app

log = logging.getLogger(__name__)


def enqueue_jobs(job_ids: list[UUID]) -> None:
    task = current_app.extensions["celery"].tasks["jobs.run"]
    for job_id in job_ids:
        try:
            task.apply_async((str(job_id),), retry=False)
        except Exception as error:  # the queued job stays queued; beat re-enqueues it
            log.warning("could not enqueue job %s (%s)", job_id, type(error).__name__)
