"""Work package messages, wire-compatible with GHGA work package service 10."""

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import UUID4, BaseModel, Field, RootModel, field_validator, model_validator

from app.catalog.schemas import DatasetAccession, FileAccession
from app.credentials.crypt4gh_keys import normalise_public_key
from app.rest import StrictModel


class WorkPackageType(StrEnum):
    DOWNLOAD = "download"
    UPLOAD = "upload"


UploadWorkType = Literal["create", "upload", "close", "delete", "view"]


class CreationRequest(StrictModel):
    """Create a download package (`dataset_id`) or an upload package (box id)."""

    type: WorkPackageType
    dataset_id: DatasetAccession | None = Field(None, description="For download packages.")
    file_ids: list[str] | None = Field(
        None,
        max_length=100_000,
        description="File accessions to include; null means every file of the dataset. "
        "Accessions the dataset does not list are dropped.",
    )
    research_data_upload_box_id: UUID4 | None = Field(None, description="For upload packages.")
    user_public_crypt4gh_key: str = Field(
        max_length=256,
        description="The user's Crypt4GH public key: base64 of 32 bytes, or the key "
        "file's content.",
    )

    @field_validator("user_public_crypt4gh_key")
    @classmethod
    def _public_key(cls, value: str) -> str:
        return normalise_public_key(value)

    @model_validator(mode="after")
    def _target_matches_type(self):
        problems = []
        if self.type is WorkPackageType.DOWNLOAD:
            if not self.dataset_id:
                problems.append("dataset_id is required for download work packages")
            if self.research_data_upload_box_id:
                problems.append("research_data_upload_box_id is only for upload work packages")
        else:
            if not self.research_data_upload_box_id:
                problems.append("research_data_upload_box_id is required for upload work packages")
            if self.dataset_id or self.file_ids is not None:
                problems.append("dataset_id and file_ids are only for download work packages")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class CreationResponse(BaseModel):
    id: str = Field(description="The work package id.")
    token: str = Field(
        description="The work package access token, sealed to the user's Crypt4GH key (base64)."
    )
    expires: datetime


class WorkPackageDetails(BaseModel):
    type: WorkPackageType
    files: dict[str, str] = Field(
        description="File accessions mapped to their extensions; empty for upload packages."
    )
    research_data_upload_box_id: UUID | None
    file_upload_box_id: UUID | None
    created: datetime
    expires: datetime


class SealedWorkOrderToken(RootModel[str]):
    """A work order token sealed to the user's Crypt4GH key (base64)."""


class UploadWorkOrderRequest(StrictModel):
    work_type: UploadWorkType
    alias: str | None = Field(None, min_length=1, max_length=512, description="For `create`.")
    file_id: UUID4 | None = Field(None, description="For `upload`, `close` and `delete`.")

    @model_validator(mode="after")
    def _parameters_for_work_type(self):
        if self.work_type == "create" and not self.alias:
            raise ValueError("alias is required for the create work type")
        if self.work_type in ("upload", "close", "delete") and not self.file_id:
            raise ValueError("file_id is required for the upload, close and delete work types")
        return self


class PackagePath(BaseModel):
    work_package_id: UUID4


class DownloadTokenPath(PackagePath):
    accession: FileAccession


class UploadTokenPath(PackagePath):
    box_id: UUID4


class UserPath(BaseModel):
    user_id: UUID4


class DatasetFileEntry(BaseModel):
    accession: str
    extension: str


class DatasetWithExpiration(BaseModel):
    id: str
    stage: str
    title: str
    description: str | None
    files: list[DatasetFileEntry]
    expires: datetime


class BoxWithExpiration(BaseModel):
    id: UUID
    file_upload_box_id: UUID
    title: str
    description: str | None
    expires: datetime


class DatasetList(RootModel[list[DatasetWithExpiration]]):
    pass


class BoxList(RootModel[list[BoxWithExpiration]]):
    pass
