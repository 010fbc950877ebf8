"""The query on the token hot path: one statement, one round trip per work order token.

The statement loads the package, whether its dataset or box still exists, whether
its account is blocked, the grant behind it (local grants) and, for a download
token, the requested file. It is built once, with bind parameters, and runs as a
prepared statement without the ORM: building, planning and hydrating per request
cost more than the round trip itself (see docs/adr/0016).
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import String, Uuid, and_, bindparam, case, exists, null, select, true

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
class DownloadableFile:
    in_package: bool
    in_dataset: bool
    file_id: UUID | None


@dataclass(frozen=True, slots=True)
class LoadedPackage:
    package: Package
    target_exists: bool
    user_blocked: bool
    #: Until when the grant behind the package runs; only with local grants.
    access_until: datetime | None
    #: The file asked for (download tokens); not in the package when none was asked for.
    file: DownloadableFile


_PACKAGE_ID = bindparam("package_id", type_=Uuid)
_ACCESSION = bindparam("accession", type_=String)
_NOW = bindparam("now", type_=UTCDateTime)
_PACKAGE_COLUMNS = [getattr(WorkPackage, name) for name in Package.__slots__]
_TARGET_EXISTS = case(
    (
        WorkPackage.type == "download",
        exists().where(Dataset.accession == WorkPackage.dataset_accession),
    ),
    else_=exists().where(UploadBox.id == WorkPackage.research_data_upload_box_id),
).label("target_exists")
_USER_BLOCKED = user_blocked(WorkPackage.user_id).label("user_blocked")


def _grant_until():
    """Until when the package's grant runs (a correlated subquery of the statement).

    Verification addresses (IVAs): when download grants are bound to a verified
    IVA, the IVA's state joins HERE, inside `grants.download_access_until` or as an
    extra condition on it, so that the check keeps riding in this one statement.
    """
    return case(
        (
            WorkPackage.type == "download",
            grants.download_access_until(WorkPackage.user_id, WorkPackage.dataset_accession, _NOW),
        ),
        else_=grants.upload_access_until(
            WorkPackage.user_id, WorkPackage.research_data_upload_box_id, _NOW
        ),
    ).label("access_until")


def _file_columns(in_package, in_dataset, file_id) -> list:
    return [in_package.label("in_package"), in_dataset.label("in_dataset"), file_id]


_FILE_IS_LISTED = and_(
    DatasetFile.accession == WorkPackageFile.accession,
    DatasetFile.dataset_accession == WorkPackage.dataset_accession,
)


def _on_postgresql(*columns):
    """The requested file as a LEFT JOIN LATERAL: at most one row, by primary key."""
    requested_file = (
        select(*_file_columns(true(), DatasetFile.accession.is_not(None), AccessionMap.file_id))
        .select_from(WorkPackageFile)
        .outerjoin(DatasetFile, _FILE_IS_LISTED)
        .outerjoin(AccessionMap, AccessionMap.accession == WorkPackageFile.accession)
        .where(WorkPackageFile.work_package_id == WorkPackage.id)
        .where(WorkPackageFile.accession == _ACCESSION)
        .lateral("requested_file")
    )
    return (
        select(*columns, *(requested_file.c[name] for name in ("in_package", "in_dataset")))
        .add_columns(requested_file.c.file_id)
        .select_from(WorkPackage)
        .outerjoin(requested_file, true())
        .where(WorkPackage.id == _PACKAGE_ID)
    )


def _portable(*columns):
    """SQLite has no LATERAL; plain LEFT JOINs on the primary key give the same row."""
    return (
        select(
            *columns,
            *_file_columns(
                WorkPackageFile.accession.is_not(None),
                DatasetFile.accession.is_not(None),
                AccessionMap.file_id,
            ),
        )
        .select_from(WorkPackage)
        .outerjoin(
            WorkPackageFile,
            and_(
                WorkPackageFile.work_package_id == WorkPackage.id,
                WorkPackageFile.accession == _ACCESSION,
            ),
        )
        .outerjoin(DatasetFile, _FILE_IS_LISTED)
        .outerjoin(AccessionMap, AccessionMap.accession == WorkPackageFile.accession)
        .where(WorkPackage.id == _PACKAGE_ID)
    )


def _query(name: str, *columns) -> PreparedQuery:
    return PreparedQuery(name, _on_postgresql(*columns), portable=_portable(*columns))


#: With grants in this database the grant check rides along; with an external
#: access API it is asked separately.
WITH_LOCAL_GRANT = _query(
    "wps_token_request_v3", *_PACKAGE_COLUMNS, _TARGET_EXISTS, _USER_BLOCKED, _grant_until()
)
WITHOUT_GRANT = _query(
    "wps_token_request_no_grant_v3",
    *_PACKAGE_COLUMNS,
    _TARGET_EXISTS,
    _USER_BLOCKED,
    null().label("access_until"),
)


def loaded_package(row: tuple | None) -> LoadedPackage | None:
    """The statement's row as a `LoadedPackage` (None: no such package)."""
    if row is None:
        return None
    fields = len(Package.__slots__)
    blocked, until, in_package, in_dataset, file_id = row[fields + 1 :]
    return LoadedPackage(
        package=Package(*row[:fields]),
        target_exists=bool(row[fields]),
        user_blocked=bool(blocked),
        access_until=until,
        file=DownloadableFile(bool(in_package), bool(in_dataset), file_id),
    )


def token_request_query(with_local_grant: bool) -> PreparedQuery:
    return WITH_LOCAL_GRANT if with_local_grant else WITHOUT_GRANT


def load_package(
    package_id: UUID, accession: str | None, now: datetime, with_local_grant: bool
) -> LoadedPackage | None:
    """The package and (given an accession) the file, in the session's transaction."""
    query = token_request_query(with_local_grant)
    return loaded_package(query.first(package_id=package_id, accession=accession, now=now))


def package_files(package_id: UUID) -> dict[str, str]:
    rows = db.session.execute(
        select(WorkPackageFile.accession, WorkPackageFile.extension)
        .where(WorkPackageFile.work_package_id == package_id)
        .order_by(WorkPackageFile.position)
    )
    return dict(rows.all())
