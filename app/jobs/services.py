"""Jobs: creating them (one active per target), their state machine, and running them."""

from uuid import UUID, uuid4

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.catalog import services as catalog
from app.database import fetch_page, utc_now
from app.errors import Conflict, NotFound
from app.extensions import db
from app.jobs import importable, maintenance
from app.jobs.models import TRANSITIONS, Job, JobLogEntry, JobStatus, Operation
from app.jobs.schemas import JobQuery, JobRequest, JobResult, JobUpdate, JobView, LogEntry


class JobNotFound(NotFound):
    """Job not found."""

    code = "job_not_found"


class InvalidTransition(Conflict):
    """This status change is not allowed."""

    code = "invalid_transition"


def create_jobs(requests: list[JobRequest], actor: str) -> tuple[list[JobResult], list[UUID]]:
    """One result per item; the created jobs' ids are returned for enqueueing."""
    paused = maintenance.current()
    results, created = [], []
    for request in requests:
        if paused.paused:
            results.append(
                JobResult(job_id=None, status="FAILED", msg=f"maintenance: {paused.msg}")
            )
            continue
        problem = _problem(request)
        if problem:
            results.append(JobResult(job_id=None, status="FAILED", msg=problem))
            continue
        job = Job(
            id=uuid4(),
            operation=request.operation,
            target=request.target,
            status=JobStatus.QUEUED.value,
            description=request.description,
            parameters=request.parameters,
            created_by=actor,
        )
        if not _insert(job, f"queued by {actor}"):
            msg = f"target {request.target} already has an active job"
            results.append(JobResult(job_id=None, status="FAILED", msg=msg))
            continue
        results.append(JobResult(job_id=job.id, status="CREATED", msg="OK"))
        created.append(job.id)
    return results, created


def _problem(request: JobRequest) -> str | None:
    if request.operation == Operation.ADD:
        try:
            importable.load(request.target)
        except (ValueError, NotFound) as error:
            return str(getattr(error, "detail", error))
    if request.operation == Operation.REMOVE:
        try:
            catalog.get_dataset(request.target)
        except NotFound as error:
            return error.detail
    return None


def record(operation: Operation, target: str, actor: str, message: str) -> Job | None:
    """A system job (UPLOAD_VERIFY, SWEEP) in progress, or None if one is already active."""
    job = Job(
        id=uuid4(),
        operation=operation.value,
        target=target,
        status=JobStatus.IN_PROGRESS.value,
        created_by=actor,
        parameters={},
        description="",
    )
    return job if _insert(job, message) else None


def _insert(job: Job, first_log: str) -> bool:
    """Store a new active job; False when its target already has one (the index decides)."""
    try:
        with db.session.begin_nested():
            db.session.add(job)
            db.session.flush()
            db.session.add(JobLogEntry(job_id=job.id, message=first_log))
            db.session.flush()
    except IntegrityError:
        return False
    return True


def view(job: Job) -> JobView:
    entries = db.session.scalars(
        select(JobLogEntry).where(JobLogEntry.job_id == job.id).order_by(JobLogEntry.id)
    )
    return JobView(
        id=job.id,
        operation=job.operation,
        target=job.target,
        status=job.status,
        description=job.description,
        parameters=job.parameters,
        created_at=job.created_at,
        created_by=job.created_by,
        updated_at=job.updated_at,
        log=[LogEntry(at=entry.at, message=entry.message) for entry in entries],
    )


def get_job(job_id: UUID) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        raise JobNotFound(f"Job {job_id} not found")
    return job


def list_jobs(query: JobQuery) -> list[Job]:
    statement = select(Job)
    if query.status is not None:
        statement = statement.where(Job.status == query.status.value)
    if query.operation:
        statement = statement.where(Job.operation.in_(query.operation.split(",")))
    if query.ignoreCompleted:
        statement = statement.where(Job.status != JobStatus.COMPLETED.value)
    return list(db.session.scalars(statement.order_by(Job.created_at, Job.id)))


def update_job(job_id: UUID, change: JobUpdate, actor: str) -> Job:
    job = db.session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise JobNotFound(f"Job {job_id} not found")
    if change.status is not None and change.status != job.status:
        allowed = TRANSITIONS.get(JobStatus(job.status), set())
        if change.status not in allowed:
            raise InvalidTransition(f"A {job.status} job cannot become {change.status}")
        job.status = change.status.value
        _log(job.id, f"{change.status.value} ({actor})")
    if change.description is not None:
        job.description = change.description
    if change.log:
        _log(job.id, change.log)
    job.updated_at = utc_now()
    db.session.flush()
    return job


def _log(job_id: UUID, message: str) -> None:
    db.session.add(JobLogEntry(job_id=job_id, message=message[:4000]))


def claim(job_id: UUID, redelivered: bool) -> Job | None:
    """Move a queued job to in progress; a redelivered one may already be in progress.

    Returns None when the job is not to be run (paused, finished, or someone else's).
    """
    if maintenance.current().paused:
        return None
    runnable = [JobStatus.QUEUED.value] + ([JobStatus.IN_PROGRESS.value] if redelivered else [])
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(runnable))
        .values(status=JobStatus.IN_PROGRESS.value, updated_at=utc_now())
    ).rowcount
    if not claimed:
        return None
    _log(job_id, "started" if not redelivered else "started again after a worker was lost")
    return db.session.get(Job, job_id)


def run(job: Job) -> None:
    """Do the job's work through the catalog services; raises on failure."""
    if job.operation == Operation.ADD:
        catalog.upsert_dataset(importable.load(job.target))
    elif job.operation == Operation.REMOVE:
        catalog.delete_dataset(job.target)
    else:
        raise ValueError(f"{job.operation} jobs are run by the system, not by request")


def finish(job_id: UUID, status: JobStatus, message: str) -> bool:
    """Complete or fail an in-progress job exactly once."""
    done = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.IN_PROGRESS.value)
        .values(status=status.value, updated_at=utc_now())
    ).rowcount
    if done:
        _log(job_id, message)
    return bool(done)


def queued_job_ids() -> list[UUID]:
    return list(db.session.scalars(select(Job.id).where(Job.status == JobStatus.QUEUED.value)))


def targets() -> list[tuple[str, Job]]:
    latest = (
        select(Job.target, func.max(Job.created_at).label("latest")).group_by(Job.target).subquery()
    )
    rows = db.session.scalars(
        select(Job)
        .join(latest, (Job.target == latest.c.target) & (Job.created_at == latest.c.latest))
        .order_by(Job.target)
    )
    return [(job.target, job) for job in rows]


def target_jobs(name: str) -> list[Job]:
    return list(db.session.scalars(select(Job).where(Job.target == name).order_by(Job.created_at)))


def recent_jobs(skip: int, limit: int) -> tuple[list[Job], int]:
    """Jobs, newest first, one page at a time."""
    statement = select(Job).order_by(Job.created_at.desc(), Job.id)
    return fetch_page(db.session, statement, skip, limit)
