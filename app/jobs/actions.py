"""Jobs and maintenance, whatever the channel (`JOBS_ADMIN`, or an admin)."""

from uuid import UUID

from app import audit_log
from app.authz import Actor, Permission
from app.jobs import maintenance, services
from app.jobs.dispatch import enqueue_jobs
from app.jobs.models import Job
from app.jobs.schemas import JobRequest, JobResult, JobUpdate, MaintenanceView
from app.unit_of_work import after_commit, commit


def pause_jobs(actor: Actor, msg: str) -> MaintenanceView:
    """Maintenance on: new jobs are refused and queued ones wait."""
    return _change_maintenance(actor, msg, paused=True)


def resume_jobs(actor: Actor, msg: str) -> MaintenanceView:
    """Maintenance off: the queued jobs are handed to the workers after the commit."""
    return _change_maintenance(actor, msg, paused=False)


def set_maintenance(actor: Actor, msg: str, paused: bool) -> MaintenanceView:
    """For channels that take the wanted state as a flag (the API, the page's radio)."""
    return pause_jobs(actor, msg) if paused else resume_jobs(actor, msg)


def _change_maintenance(actor: Actor, msg: str, paused: bool) -> MaintenanceView:
    actor.require(Permission.JOBS_ADMIN)
    # The maintenance history row names who changed it; the audit line adds the channel.
    state = maintenance.change(msg, paused, actor.label)
    audit_log.record(actor, "jobs_paused" if paused else "jobs_resumed", msg)
    if not paused:
        after_commit(_enqueue_queued_jobs)
    commit()
    return state


def _enqueue_queued_jobs() -> None:
    # Read after the commit: every job that waited for the resume, however it came.
    enqueue_jobs(services.queued_job_ids())


def create_jobs(actor: Actor, requests: list[JobRequest]) -> list[JobResult]:
    """One result per request; the created jobs (each logs who queued it) go to the workers."""
    actor.require(Permission.JOBS_ADMIN)
    results, created = services.create_jobs(requests, actor.label)
    after_commit(enqueue_jobs, created)
    commit()
    return results


def update_job(actor: Actor, job_id: UUID, change: JobUpdate) -> Job:
    """A status change or description; the job's log names who made it."""
    actor.require(Permission.JOBS_ADMIN)
    job = services.update_job(job_id, change, actor.label)
    commit()
    return job
