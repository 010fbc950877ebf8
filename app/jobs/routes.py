"""Jobs, targets, maintenance, importable datasets (`JOBS_ADMIN`; reads: `DATA_STEWARD`)."""

from uuid import UUID

from flask import Blueprint, g

from app.api import json_response, operation
from app.applications.permissions import Permission, permissions_required
from app.extensions import db
from app.jobs import importable, maintenance, services
from app.jobs.dispatch import enqueue_jobs
from app.jobs.schemas import (
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

bp = Blueprint("jobs", __name__)
admins = permissions_required([Permission.JOBS_ADMIN])
readers = permissions_required([Permission.JOBS_ADMIN, Permission.DATA_STEWARD])


def _actor() -> str:
    return g.actor


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
def create_jobs(body: JobBatch):
    results, created = services.create_jobs(body.jobs, _actor())
    db.session.commit()
    enqueue_jobs(created)
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
def update_job(job_id: UUID, body: JobUpdate):
    job = services.update_job(job_id, body, _actor())
    db.session.commit()
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
def set_maintenance(body: MaintenanceRequest):
    state = maintenance.change(body.msg, body.paused, _actor())
    db.session.commit()
    if not state.paused:
        enqueue_jobs(services.queued_job_ids())
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
@admins
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
@operation("Targets, each with its latest job", tags=["jobs"], responses={200: TargetList})
def targets():
    return json_response(
        TargetList([TargetView(name=n, latest_job=services.view(j)) for n, j in services.targets()])
    )


@bp.get("/targets/<name>/jobs")
@readers
@operation("Every job of a target", tags=["jobs"], path=TargetPath, responses={200: JobList})
def target_jobs(name: str):
    return json_response(JobList([services.view(job) for job in services.target_jobs(name)]))
