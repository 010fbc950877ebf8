"""Jobs, targets, maintenance, importable datasets (`JOBS_ADMIN`; reads: `DATA_STEWARD`)."""

from uuid import UUID

from flask import Blueprint

from app.authz import Actor, Permission
from app.authz.api import permissions_required, requires
from app.jobs import actions, importable, maintenance, services
from app.jobs.schemas import (
    BoundedListQuery,
    ImportableDatasets,
    ImportablePath,
    JobBatch,
    JobList,
    JobPath,
    JobQuery,
    JobResults,
    JobUpdate,
    JobView,
    MaintenanceHistory,
    MaintenanceRequest,
    MaintenanceView,
    TargetList,
    TargetPath,
    TargetView,
)
from app.rest import json_response, operation

bp = Blueprint("jobs", __name__)
admins = requires(Permission.JOBS_ADMIN)
readers = permissions_required([Permission.JOBS_ADMIN, Permission.DATA_STEWARD])


@bp.get("/jobs")
@readers
@operation(
    "Jobs, oldest first",
    description="Filters combine: `status`, `operation` (comma-separated), `ignoreCompleted=true`.",
    tags=["jobs"],
    query=JobQuery,
    responses={200: JobList},
)
def list_jobs(query: JobQuery):
    return json_response(JobList([services.view(job) for job in services.list_jobs(query)]))


@bp.get("/jobs/<job_id>")
@readers
@operation("One job with its log", tags=["jobs"], path=JobPath, responses={200: JobView})
def get_job(job_id: UUID):
    return json_response(services.view(services.get_job(job_id)))


@bp.post("/jobs")
@admins
@operation(
    "Queue jobs",
    description="A result per item: CREATED with the job id, or FAILED with the reason "
    "(maintenance, invalid manifest, unknown dataset, an active job on the target).",
    tags=["jobs"],
    body=JobBatch,
    responses={200: JobResults},
)
def create_jobs(actor: Actor, body: JobBatch):
    results = actions.create_jobs(actor, body.jobs)
    return json_response(JobResults(results))


@bp.put("/jobs/<job_id>")
@admins
@operation(
    "Change a job's status or description, adding to its log",
    description="Transitions: queued → in_progress | cancelled; in_progress → completed | "
    "failed. Anything else is 409.",
    tags=["jobs"],
    path=JobPath,
    body=JobUpdate,
    responses={200: JobView, 409: None},
)
def update_job(actor: Actor, job_id: UUID, body: JobUpdate):
    job = actions.update_job(actor, job_id, body)
    return json_response(services.view(job))


@bp.get("/maintenance-status")
@readers
@operation("Whether jobs are paused", tags=["jobs"], responses={200: MaintenanceView})
def maintenance_status():
    return json_response(maintenance.current())


@bp.post("/maintenance-status")
@admins
@operation(
    "Pause or resume jobs",
    description="While paused, new jobs are refused and queued ones wait; resuming "
    "hands the queued jobs to the workers.",
    tags=["jobs"],
    body=MaintenanceRequest,
    responses={200: MaintenanceView},
)
def set_maintenance(actor: Actor, body: MaintenanceRequest):
    state = actions.set_maintenance(actor, body.msg, body.paused)
    return json_response(state)


@bp.get("/maintenance-history")
@readers
@operation("Maintenance changes, newest first", tags=["jobs"], responses={200: MaintenanceHistory})
def maintenance_history():
    return json_response(MaintenanceHistory(maintenance.history()))


@bp.get("/importable-datasets")
@readers
@operation(
    "Dataset manifests in INPUT_DIR, and whether each is valid",
    tags=["jobs"],
    responses={200: ImportableDatasets},
)
def importable_datasets():
    return json_response(ImportableDatasets(importable.listing()))


@bp.delete("/importable-datasets/<name>")
@permissions_required([Permission.JOBS_ADMIN])  # no action: a file goes
@operation(
    "Remove a manifest from INPUT_DIR",
    tags=["jobs"],
    path=ImportablePath,
    responses={204: None, 404: None},
)
def delete_importable(name: str):
    importable.delete(name)
    return "", 204


@bp.get("/targets")
@readers
@operation(
    "Targets, each with its latest job",
    tags=["jobs"],
    query=BoundedListQuery,
    responses={200: TargetList},
)
def targets(query: BoundedListQuery):
    latest = services.targets(query.skip, query.limit)
    return json_response(
        TargetList([TargetView(name=n, latest_job=services.view(j)) for n, j in latest])
    )


@bp.get("/targets/<name>/jobs")
@readers
@operation(
    "Every job of a target, oldest first",
    tags=["jobs"],
    path=TargetPath,
    query=BoundedListQuery,
    responses={200: JobList},
)
def target_jobs(name: str, query: BoundedListQuery):
    jobs = services.target_jobs(name, query.skip, query.limit)
    return json_response(JobList([services.view(job) for job in jobs]))
