"""Handing jobs to the workers after the commit."""

from uuid import UUID

from app.dispatch import enqueue


def enqueue_jobs(job_ids: list[UUID]) -> None:
    """Queue the jobs; one not queued stays queued, and beat enqueues it again."""
    for job_id in job_ids:
        enqueue("jobs.run", str(job_id))
