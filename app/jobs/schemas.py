from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    Field,
    RootModel,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.jobs.models import JobStatus, Operation
from app.rest import StrictModel

Target = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._:-]+$")
]


class JobRequest(StrictModel):
    operation: Literal["ADD", "REMOVE"]
    target: Target = Field(description="The dataset accession.")
    description: str = Field("", max_length=4000)
    parameters: dict = Field(default_factory=dict)


class JobBatch(StrictModel):
    jobs: list[JobRequest] = Field(min_length=1, max_length=500)


class JobResult(BaseModel):
    job_id: UUID | None
    status: Literal["CREATED", "FAILED"]
    msg: str


class JobResults(RootModel[list[JobResult]]):
    pass


class LogEntry(BaseModel):
    at: datetime
    message: str


class JobView(BaseModel):
    id: UUID
    operation: Operation
    target: str
    status: JobStatus
    description: str
    parameters: dict
    created_at: datetime
    created_by: str
    updated_at: datetime
    log: list[LogEntry]


class JobList(RootModel[list[JobView]]):
    pass


class JobUpdate(StrictModel):
    status: JobStatus | None = None
    description: str | None = Field(None, max_length=4000)
    log: str | None = Field(None, max_length=4000)

    @model_validator(mode="after")
    def _something(self):
        if self.status is None and self.description is None:
            raise ValueError("give status or description")
        return self


class BoundedListQuery(BaseModel):
    """Paging for the lists that stay bare JSON arrays (as the workflow service's)."""

    skip: int = Field(0, ge=0, le=2**31 - 1, description="Items to skip.")
    limit: int = Field(1000, ge=1, le=1000, description="Largest number of items returned.")


class JobQuery(BoundedListQuery):
    status: JobStatus | None = None
    operation: str | None = Field(None, description="Comma-separated operations, e.g. ADD,REMOVE")
    ignoreCompleted: bool = False

    @field_validator("operation")
    @classmethod
    def _known_operations(cls, value: str | None):
        if value is None:
            return None
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = [name for name in names if name not in Operation.__members__]
        if unknown:
            raise ValueError(f"unknown operation(s): {', '.join(unknown)}")
        return ",".join(names)


class JobPath(BaseModel):
    job_id: UUID


class MaintenanceRequest(StrictModel):
    msg: str = Field(min_length=1, max_length=1000)
    paused: bool


class MaintenanceView(BaseModel):
    msg: str
    paused: bool
    timestamp: datetime | None
    set_by: str | None


class MaintenanceHistory(RootModel[list[MaintenanceView]]):
    pass


class ImportableDataset(BaseModel):
    name: str
    valid: bool
    error: str | None


class ImportableDatasets(RootModel[list[ImportableDataset]]):
    pass


class ImportablePath(BaseModel):
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=128)]


class TargetView(BaseModel):
    name: str
    latest_job: JobView


class TargetList(RootModel[list[TargetView]]):
    pass


class TargetPath(BaseModel):
    name: Target
