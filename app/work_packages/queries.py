"""The queries on the token hot path: at most two round trips per work order token.

Statements are built once, with bind parameters, and run as prepared
statements without the ORM: building, planning and hydrating per request cost
more than the round trips themselves (see docs/adr/0007).
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import String, Uuid, and_, bindparam, case, exists, select

from app.access import queries as grants
from app.accounts.queries import user_blocked
from app.catalog.models import AccessionMap, Dataset, DatasetFile, UploadBox
from app.database import UTCDateTime
from app.extensions import db
from app.prepared import PreparedQuery
from app.work_packages.models import WorkPackage, WorkPackageFile


@dataclass(frozen=True, slots=True)
class Package:
    """A work package as the token endpoints need it (read-only)."""

    id: UUID
    type: str
    user_id: UUID
    dataset_accession: str | None
    research_data_upload_box_id: UUID | None
    file_upload_box_id: UUID | None
    user_public_crypt4gh_key: str
    token_hash: str
    created: datetime
    expires: datetime


@dataclass(frozen=True, slots=True)
class LoadedPackage:
    package: Package
    target_exists: bool
    user_blocked: bool
    #: Until when the grant behind the package runs; only with local grants.
    access_until: datetime | None


_PACKAGE_ID = bindparam("package_id", type_=Uuid)
_NOW = bindparam("now", type_=UTCDateTime)
_PACKAGE_COLUMNS = [getattr(WorkPackage, name) for name in Package.__slots__]
_TARGET_EXISTS = case(
    (
        WorkPackage.type == "download",
        exists().where(Dataset.accession == WorkPackage.dataset_accession),
    ),
    else_=exists().where(UploadBox.id == WorkPackage.research_data_upload_box_id),
).label("target_exists")
_ACCESS_UNTIL = case(
    (
        WorkPackage.type == "download",
        grants.download_access_until(WorkPackage.user_id, WorkPackage.dataset_accession, _NOW),
    ),
    else_=grants.upload_access_until(
        WorkPackage.user_id, WorkPackage.research_data_upload_box_id, _NOW
    ),
).label("access_until")

_USER_BLOCKED = user_blocked(WorkPackage.user_id).label("user_blocked")
_LOAD_WITH_GRANT = PreparedQuery(
    "wps_load_package_with_grant_v2",
    select(*_PACKAGE_COLUMNS, _TARGET_EXISTS, _USER_BLOCKED, _ACCESS_UNTIL).where(
        WorkPackage.id == _PACKAGE_ID
    ),
)
_LOAD_WITHOUT_GRANT = PreparedQuery(
    "wps_load_package_v2",
    select(*_PACKAGE_COLUMNS, _TARGET_EXISTS, _USER_BLOCKED).where(WorkPackage.id == _PACKAGE_ID),
)


def load_package(package_id: UUID, now: datetime, with_local_grant: bool) -> LoadedPackage | None:
    """The package, whether its dataset or box still exists, and (local grants) its grant."""
    query = _LOAD_WITH_GRANT if with_local_grant else _LOAD_WITHOUT_GRANT
    row = query.first(package_id=package_id, now=now)
    if row is None:
        return None
    fields = len(Package.__slots__)
    return LoadedPackage(
        package=Package(*row[:fields]),
        target_exists=bool(row[fields]),
        user_blocked=bool(row[fields + 1]),
        access_until=row[fields + 2] if with_local_grant else None,
    )


@dataclass(frozen=True, slots=True)
class DownloadableFile:
    in_package: bool
    in_dataset: bool
    file_id: UUID | None


_DOWNLOADABLE = PreparedQuery(
    "wps_downloadable_file",
    select(DatasetFile.accession, AccessionMap.file_id)
    .select_from(WorkPackageFile)
    .outerjoin(
        DatasetFile,
        and_(
            DatasetFile.accession == WorkPackageFile.accession,
            DatasetFile.dataset_accession == bindparam("dataset", type_=String),
        ),
    )
    .outerjoin(AccessionMap, AccessionMap.accession == WorkPackageFile.accession)
    .where(
        WorkPackageFile.work_package_id == _PACKAGE_ID,
        WorkPackageFile.accession == bindparam("accession", type_=String),
    ),
)


def downloadable_file(package: Package, accession: str) -> DownloadableFile:
    """Is the file in the package, still listed by the dataset, and mapped to a file id?"""
    row = _DOWNLOADABLE.first(
        package_id=package.id, dataset=package.dataset_accession, accession=accession
    )
    if row is None:
        return DownloadableFile(in_package=False, in_dataset=False, file_id=None)
    return DownloadableFile(in_package=True, in_dataset=row[0] is not None, file_id=row[1])


def package_files(package_id: UUID) -> dict[str, str]:
    rows = db.session.execute(
        select(WorkPackageFile.accession, WorkPackageFile.extension)
        .where(WorkPackageFile.work_package_id == package_id)
        .order_by(WorkPackageFile.position)
    )
    return dict(rows.all())
