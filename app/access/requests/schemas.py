"""Messages of access requests."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import UUID4, AwareDatetime, BaseModel, Field, model_validator

from app.access.schemas import GrantKind
from app.catalog.schemas import DatasetAccession
from app.rest import Page, PageQuery, StrictModel


class RequestStatus(StrEnum):
    PENDING = "pending"
    ALLOWED = "allowed"
    DENIED = "denied"


class AccessRequestCreation(StrictModel):
    """Ask for download access to a dataset or upload access to a box."""

    dataset_id: DatasetAccession | None = None
    research_data_upload_box_id: UUID4 | None = None
    note: str = Field("", max_length=4000, description="Why, for the data steward.")
    valid_from: AwareDatetime | None = Field(None, description="Wished start.")
    valid_until: AwareDatetime | None = Field(None, description="Wished end.")

    @model_validator(mode="after")
    def _one_target(self):
        if (self.dataset_id is None) == (self.research_data_upload_box_id is None):
            raise ValueError("give exactly one of dataset_id and research_data_upload_box_id")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class Decision(StrictModel):
    note: str | None = Field(None, max_length=4000)
    iva_id: UUID4 | None = Field(
        None,
        description="Allowing download access: one of the requester's verification "
        "addresses (required while REQUIRE_IVA_FOR_DOWNLOAD). The grant works only while "
        "it is verified.",
    )
    valid_from: AwareDatetime | None = Field(None, description="Default: the wish, or now.")
    valid_until: AwareDatetime | None = Field(
        None, description="Default: the wish, or one year from now."
    )


class AccessRequestView(BaseModel):
    id: UUID
    kind: GrantKind
    user_id: UUID
    user_email: str
    dataset_id: str | None
    research_data_upload_box_id: UUID | None
    note: str
    valid_from: datetime | None
    valid_until: datetime | None
    status: RequestStatus
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    grant_id: UUID | None
    created_at: datetime

    @classmethod
    def of(cls, request) -> "AccessRequestView":
        return cls(
            id=request.id,
            kind=request.kind,
            user_id=request.user_id,
            user_email=request.user_email,
            dataset_id=request.dataset_accession,
            research_data_upload_box_id=request.upload_box_id,
            note=request.note,
            valid_from=request.wished_from,
            valid_until=request.wished_until,
            status=request.status,
            decided_by=request.decided_by,
            decided_at=request.decided_at,
            decision_note=request.decision_note,
            grant_id=request.grant_id,
            created_at=request.created_at,
        )


class AccessRequestPage(Page[AccessRequestView]):
    pass


class AccessRequestQuery(PageQuery):
    status: RequestStatus | None = None
    user_id: UUID4 | None = None


class AccessRequestPath(BaseModel):
    request_id: UUID4
