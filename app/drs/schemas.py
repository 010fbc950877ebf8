"""GA4GH DRS 1.5 shapes: service-info, objects, access URLs, authorizations, bulk."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DRS_VERSION = "1.5.0"
#: The one access method: the requester's Crypt4GH stream (their header, then the data).
STREAM_ACCESS_ID = "c4gh"
OBJECT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"


class DrsError(BaseModel):
    """DRS's error body (every DRS route answers errors in it)."""

    msg: str
    status_code: int


class ServiceType(BaseModel):
    group: Literal["org.ga4gh"] = "org.ga4gh"
    artifact: Literal["drs"] = "drs"
    version: str = DRS_VERSION


class Organization(BaseModel):
    name: str
    url: str


class DrsServiceFacts(BaseModel):
    maxBulkRequestLength: int
    objectCount: int
    totalObjectSize: int


class ServiceInfo(BaseModel):
    id: str
    name: str
    type: ServiceType
    description: str
    organization: Organization
    version: str
    environment: str
    drs: DrsServiceFacts


class Checksum(BaseModel):
    checksum: str
    type: str


class AccessUrl(BaseModel):
    url: str
    headers: list[str] = Field(default_factory=list)


class AccessMethod(BaseModel):
    type: Literal["https"] = "https"
    access_id: str
    region: str = ""


class ContentsObject(BaseModel):
    name: str
    id: str
    drs_uri: list[str]


class DrsObject(BaseModel):
    id: str
    name: str
    self_uri: str
    size: int = Field(
        description="Blob: bytes of the requester's stream (their Crypt4GH header, then the "
        "encrypted data segments). Bundle: the sum over its contents."
    )
    created_time: datetime
    updated_time: datetime | None = None
    mime_type: str = "application/octet-stream"
    checksums: list[Checksum]
    description: str = ""
    aliases: list[str] = Field(default_factory=list)
    access_methods: list[AccessMethod] | None = None
    contents: list[ContentsObject] | None = None


class Authorizations(BaseModel):
    drs_object_id: str
    supported_types: list[Literal["None", "BasicAuth", "BearerAuth", "PassportAuth"]]
    passport_auth_issuers: list[str]
    bearer_auth_issuers: list[str]


class PassportsBody(BaseModel):
    """A POST body carrying GA4GH Passports (JWTs) instead of a bearer token."""

    model_config = ConfigDict(extra="forbid")

    passports: list[str] = Field(default_factory=list, max_length=10)
    expand: bool = False


class BulkObjectIds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bulk_object_ids: list[str] = Field(min_length=1)
    passports: list[str] = Field(default_factory=list, max_length=10)
    expand: bool = False


class BulkObjectAccessId(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bulk_object_id: str
    bulk_access_ids: list[str] = Field(min_length=1, max_length=10)


class BulkAccessRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bulk_object_access_ids: list[BulkObjectAccessId] = Field(min_length=1)
    passports: list[str] = Field(default_factory=list, max_length=10)


class BulkSummary(BaseModel):
    requested: int
    resolved: int
    unresolved: int


class Unresolved(BaseModel):
    error_code: int
    object_ids: list[str]


class BulkObjects(BaseModel):
    summary: BulkSummary
    unresolved_drs_objects: list[Unresolved]
    resolved_drs_object: list[DrsObject]


class BulkAuthorizations(BaseModel):
    summary: BulkSummary
    unresolved_drs_objects: list[Unresolved]
    resolved_drs_object: list[Authorizations]


class BulkAccessUrl(BaseModel):
    drs_object_id: str
    drs_access_id: str
    url: str
    headers: list[str] = Field(default_factory=list)


class BulkAccessUrls(BaseModel):
    summary: BulkSummary
    unresolved_drs_objects: list[Unresolved]
    resolved_drs_object_access_urls: list[BulkAccessUrl]
