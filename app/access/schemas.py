from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import UUID4, AwareDatetime, BaseModel, Field, model_validator

from app.catalog.schemas import DatasetAccession
from app.rest import Page, PageQuery, StrictModel


class GrantKind(StrEnum):
    DOWNLOAD = "download"
    UPLOAD = "upload"


class GrantRequest(StrictModel):
    """Give `user_id` access to a dataset (download) or an upload box (upload)."""

    user_id: UUID4
    dataset_id: DatasetAccession | None = Field(None, description="For download access.")
    research_data_upload_box_id: UUID4 | None = Field(None, description="For upload access.")
    valid_from: AwareDatetime | None = Field(None, description="Default: now.")
    valid_until: AwareDatetime = Field(description="End of access (exclusive).")
    iva_id: UUID4 | None = Field(
        None,
        description="Download only: one of the user's verification addresses; the grant "
        "then works only while that address is verified.",
    )

    @model_validator(mode="after")
    def _one_target(self):
        if (self.dataset_id is None) == (self.research_data_upload_box_id is None):
            raise ValueError("give exactly one of dataset_id and research_data_upload_box_id")
        if self.iva_id is not None and self.dataset_id is None:
            raise ValueError("iva_id is for download grants only")
        if self.valid_from is not None and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self

    @property
    def kind(self) -> GrantKind:
        return GrantKind.DOWNLOAD if self.dataset_id else GrantKind.UPLOAD


class GrantView(BaseModel):
    id: UUID
    kind: GrantKind
    user_id: UUID
    dataset_id: str | None
    research_data_upload_box_id: UUID | None
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    granted_by: str
    created_at: datetime
    iva_id: UUID | None = None

    @classmethod
    def of(cls, grant) -> "GrantView":
        return cls(
            id=grant.id,
            kind=grant.kind,
            user_id=grant.user_id,
            dataset_id=grant.dataset_accession,
            research_data_upload_box_id=grant.upload_box_id,
            valid_from=grant.valid_from,
            valid_until=grant.valid_until,
            revoked_at=grant.revoked_at,
            granted_by=grant.granted_by,
            created_at=grant.created_at,
            iva_id=grant.iva_id,
        )


class GrantQuery(PageQuery):
    user_id: UUID4 | None = None
    dataset_id: str | None = None
    box_id: UUID4 | None = None
    include_inactive: bool = Field(False, description="Also list revoked and expired grants.")


class GrantPage(Page[GrantView]):
    pass


class GrantPath(BaseModel):
    grant_id: UUID4
