"""Messages of the download and upload controllers (GHGA DCS/UCS as ghga-connector uses them)."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import (
    UUID4,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    field_validator,
)

from app.catalog.schemas import FileAccession
from app.rest import PageQuery

Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]+$", max_length=64)]


class TransferErrorBody(BaseModel):
    detail: str
    code: str
    exception_id: str = Field(description="The error's id as GHGA services name it.")
    description: str
    data: dict = {}


class ControllerHealth(BaseModel):
    status: str


class AccessUrl(BaseModel):
    url: str


class AccessMethod(BaseModel):
    type: str
    access_url: AccessUrl


class Checksum(BaseModel):
    checksum: str
    type: str


class DrsObject(BaseModel):
    id: str
    self_uri: str
    size: int = Field(description="Bytes behind the URL: the encrypted data segments.")
    created_time: datetime
    checksums: list[Checksum]
    access_methods: list[AccessMethod]


class Envelope(RootModel[str]):
    """A Crypt4GH header for the requesting user's key, base64."""


class UploadCreation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    alias: str = Field(min_length=1, max_length=512)
    decrypted_size: int = Field(ge=0, le=2**63 - 1)
    encrypted_size: int = Field(ge=0, le=2**63 - 1)
    part_size: int = Field(gt=0, le=2**63 - 1)
    overwrite: bool = False


class UploadCreated(BaseModel):
    file_id: UUID
    alias: str
    storage_alias: str


class UploadClosure(BaseModel):
    model_config = ConfigDict(extra="ignore")

    decrypted_sha256: Hex
    encrypted_md5: str = Field(max_length=80)
    encrypted_parts_md5: list[Hex] = Field(max_length=10_000)
    encrypted_parts_sha256: list[Hex] = Field(max_length=10_000)


class _PartChecksums(BaseModel):
    encrypted_parts_md5: list[str] | None = Field(
        None, description="Given at close; only with `with_checksums=true`."
    )
    encrypted_parts_sha256: list[str] | None = Field(
        None, description="Given at close; only with `with_checksums=true`."
    )


class UploadListItem(_PartChecksums):
    id: UUID
    alias: str
    decrypted_size: int
    encrypted_size: int
    state: str

    @classmethod
    def of(cls, upload, with_checksums: bool) -> "UploadListItem":
        item = cls.model_validate(upload, from_attributes=True)
        return item if with_checksums else _without_checksums(item)


def _without_checksums(item):
    return item.model_copy(update={"encrypted_parts_md5": None, "encrypted_parts_sha256": None})


class UploadListing(BaseModel):
    items: list[UploadListItem]
    total_count: int


class PartUploadUrl(RootModel[str]):
    """A URL that accepts `PUT` of the part and answers 200."""


class ObjectPath(BaseModel):
    accession: FileAccession


class BoxPath(BaseModel):
    box_id: UUID4


class UploadPath(BoxPath):
    file_id: UUID4


class PartPath(UploadPath):
    part_number: int = Field(ge=1, le=10_000)


#: Fields of GHGA's FileUpload that a listing can be sorted by here.
SORTABLE_FIELDS = (
    "id",
    "box_id",
    "alias",
    "state",
    "state_updated",
    "storage_alias",
    "decrypted_size",
    "encrypted_size",
    "part_size",
    "decrypted_sha256",
    "failure_reason",
)


class ListingQuery(PageQuery):
    sort: str | None = Field(
        None,
        max_length=500,
        description="Comma-separated FileUpload fields, `-` before a field for descending "
        "(e.g. `state,-decrypted_size`), as in GHGA's upload controller 15. Default: "
        "`alias`; `alias` is appended as a tiebreaker when not named. Fields: "
        + ", ".join(SORTABLE_FIELDS)
        + ".",
    )
    with_checksums: bool = Field(
        False,
        description="Include each upload's part checksums (`encrypted_parts_md5`, "
        "`encrypted_parts_sha256`); omitted by default as they can be long.",
    )

    @field_validator("sort")
    @classmethod
    def _known_fields(cls, sort: str | None) -> str | None:
        if not sort:
            return None
        unknown = [
            spec for spec in sort.split(",") if spec.removeprefix("-") not in SORTABLE_FIELDS
        ]
        if unknown:
            raise ValueError(f"sort references unknown FileUpload fields: {', '.join(unknown)}")
        return sort

    def sort_fields(self) -> list[str]:
        """The sort as a list; `alias` last as a tiebreaker unless named."""
        fields = self.sort.split(",") if self.sort else []
        if all(spec.removeprefix("-") != "alias" for spec in fields):
            fields.append("alias")
        return fields


class StewardUploadView(_PartChecksums):
    file_id: UUID
    alias: str
    state: str
    decrypted_size: int
    decrypted_sha256: str | None
    failure_reason: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, upload, with_checksums: bool = False) -> "StewardUploadView":
        fields = {name: getattr(upload, name) for name in cls.model_fields if name != "file_id"}
        item = cls(file_id=upload.id, **fields)
        return item if with_checksums else _without_checksums(item)


class StewardUploadPage(BaseModel):
    items: list[StewardUploadView]
    total_count: int
