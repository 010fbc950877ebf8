"""Catalog payloads: the same shapes as the GHGA change events.

Payloads are tolerant readers: fields the events carry that this service does
not use are accepted and ignored, so a producer's newer schema does not break
ingestion. Fields we use are validated strictly.
"""

from enum import StrEnum
from functools import lru_cache
from typing import Annotated
from uuid import UUID

from pydantic import (
    UUID4,
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic.networks import validate_email

from app.rest import Page, StrictModel

FileAccession = Annotated[
    str,
    StringConstraints(pattern=r"^GHGAF[A-Za-z0-9._-]+$", max_length=128),
]
DatasetAccession = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=128)
]


@lru_cache(maxsize=4096)
def _checked_email(value: str) -> str:
    """What `EmailStr` checks and returns, remembered: every event of a feed names one
    of a few DAC addresses, and checking one took 40 % of ingesting an event."""
    return validate_email(value)[1]


# `EmailStr`, with its checks cached (an invalid address raises the same error).
CachedEmail = Annotated[
    str, AfterValidator(_checked_email), WithJsonSchema({"type": "string", "format": "email"})
]
FileExtension = Annotated[str, StringConstraints(pattern=r"^(\.[A-Za-z0-9_-]+)*$", max_length=64)]


class DatasetStage(StrEnum):
    DOWNLOAD = "download"
    UPLOAD = "upload"


class UploadBoxState(StrEnum):
    OPEN = "open"
    LOCKED = "locked"
    ARCHIVED = "archived"


class _EventPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DatasetFilePayload(_EventPayload):
    accession: FileAccession
    description: str | None = None
    file_extension: FileExtension = Field(description="With a leading dot, e.g. `.fastq.gz`.")


class DatasetPayload(_EventPayload):
    """A dataset as the `dataset_upserted` event carries it."""

    accession: DatasetAccession
    title: str = Field(min_length=1)
    stage: DatasetStage
    description: str | None = None
    dac_alias: str = Field(min_length=1, max_length=256)
    dac_email: CachedEmail
    files: list[DatasetFilePayload] = Field(max_length=100_000)

    @field_validator("files")
    @classmethod
    def _accessions_are_unique(cls, files: list[DatasetFilePayload]):
        seen: set[str] = set()
        repeated = {f.accession for f in files if f.accession in seen or seen.add(f.accession)}
        if repeated:
            raise ValueError(f"file accessions listed twice: {', '.join(sorted(repeated))}")
        return files


class UploadBoxPayload(_EventPayload):
    """A research data upload box as the `upserted` upload box event carries it."""

    id: UUID4
    version: int = Field(ge=0, le=2**31 - 1)
    state: UploadBoxState
    title: str = Field(min_length=1)
    description: str | None = None
    file_upload_box_id: UUID4
    storage_alias: str = Field(min_length=1, max_length=128)
    max_size: int | None = Field(
        None,
        ge=0,
        le=2**63 - 1,
        description="Bytes the box may hold across all its files (decrypted sizes, as "
        "GHGA counts them); a new upload that would go beyond it is refused with 507. "
        "Required in ghga-event-schemas 13; absent means no limit.",
    )


class AccessionMapPayload(StrictModel):
    file_id: UUID4


class DatasetFileView(BaseModel):
    accession: str
    description: str | None
    file_extension: str

    @classmethod
    def of(cls, file) -> "DatasetFileView":
        return cls(
            accession=file.accession, description=file.description, file_extension=file.extension
        )


class DatasetSummary(BaseModel):
    """A dataset in a list: its file count, not its files (see `/datasets/{accession}/files`)."""

    accession: str
    title: str
    stage: DatasetStage
    description: str | None
    dac_alias: str
    dac_email: str
    file_count: int

    @classmethod
    def of(cls, dataset, file_count: int) -> "DatasetSummary":
        return cls(
            accession=dataset.accession,
            title=dataset.title,
            stage=dataset.stage,
            description=dataset.description,
            dac_alias=dataset.dac_alias,
            dac_email=dataset.dac_email,
            file_count=file_count,
        )


class DatasetView(BaseModel):
    accession: str
    title: str
    stage: DatasetStage
    description: str | None
    dac_alias: str
    dac_email: str
    files: list[DatasetFileView]

    @classmethod
    def of(cls, dataset) -> "DatasetView":
        return cls(
            accession=dataset.accession,
            title=dataset.title,
            stage=dataset.stage,
            description=dataset.description,
            dac_alias=dataset.dac_alias,
            dac_email=dataset.dac_email,
            files=[DatasetFileView.of(file) for file in dataset.files],
        )


class UploadBoxView(BaseModel):
    id: UUID
    version: int
    state: UploadBoxState
    title: str
    description: str | None
    file_upload_box_id: UUID
    storage_alias: str
    max_size: int | None = Field(description="Bytes the box may hold; null: no limit.")

    @classmethod
    def of(cls, box) -> "UploadBoxView":
        return cls.model_validate(box, from_attributes=True)


class AccessionMapView(BaseModel):
    accession: str
    file_id: UUID


class DatasetPath(BaseModel):
    accession: DatasetAccession


class UploadBoxPath(BaseModel):
    box_id: UUID4


class AccessionPath(BaseModel):
    accession: FileAccession


class DatasetPage(Page[DatasetSummary]):
    pass


class DatasetFilePage(Page[DatasetFileView]):
    pass


class UploadBoxPage(Page[UploadBoxView]):
    pass
