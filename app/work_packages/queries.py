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

from sqlalchemy import String, Uuid, and_, bindparam, case, exists, false, null, select, true

from app.access import queries as grants
from app.accounts.queries import user_blocked
from app.catalog.models import AccessionMap, Dataset, DatasetFile, UploadBox
from app.database import UTCDateTime
from app.database.prepared import PreparedQuery
from app.extensions import db
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
    #: A current download grant exists but its verification address is not verified
    #: (says why access is refused; local grants only).
    waits_for_iva: bool = False


_PACKAGE_ID = bindparam("package_id", type_=Uuid)
_ACCESSION = bindparam("accession", type_=String)
_NOW = bindparam("now", type_=UTCDateTime)
_PACKAGE_COLUMNS = [getattr(WorkPackage, name) for name in Package.__slots__]
_DATASET_EXISTS = exists().where(Dataset.accession == WorkPackage.dataset_accession)
_BOX_EXISTS = exists().where(UploadBox.id == WorkPackage.research_data_upload_box_id)
_USER_BLOCKED = user_blocked(WorkPackage.user_id).label("user_blocked")


def _download_grant_until():
    """Until when the download grant behind the package runs (a correlated subquery).

    A grant bound to a verification address counts only while that address is
    verified: `download_access_until` joins the address's state, so the check keeps
    riding in this one statement.
    """
    return grants.download_access_until(WorkPackage.user_id, WorkPackage.dataset_accession, _NOW)


def _upload_grant_until():
    return grants.upload_access_until(
        WorkPackage.user_id, WorkPackage.research_data_upload_box_id, _NOW
    )


def _checks(kind: str, local_grant: bool) -> list:
    """target_exists, user_blocked and access_until for a package of `kind` ("any": either).

    A statement for one kind touches only that kind's tables: fewer relations to
    lock and plan nodes to start on every execution than the one for either kind.
    """
    if kind == "download":
        target, until, waits = _DATASET_EXISTS, _download_grant_until(), _waits_for_iva()
    elif kind == "upload":
        target, until, waits = _BOX_EXISTS, _upload_grant_until(), false()
    else:
        is_download = WorkPackage.type == "download"
        target = case((is_download, _DATASET_EXISTS), else_=_BOX_EXISTS)
        until = case((is_download, _download_grant_until()), else_=_upload_grant_until())
        waits = case((is_download, _waits_for_iva()), else_=false())
    return [
        target.label("target_exists"),
        _USER_BLOCKED,
        (until if local_grant else null()).label("access_until"),
        (waits if local_grant else false()).label("waits_for_iva"),
    ]


def _waits_for_iva():
    """Whether a download grant exists that only waits for its address to be verified:
    in the same statement, so that a refusal can say why without another round trip."""
    return grants.download_waits_for_iva(WorkPackage.user_id, WorkPackage.dataset_accession, _NOW)


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


def _query(kind: str, local_grant: bool) -> PreparedQuery:
    columns = [*_PACKAGE_COLUMNS, *_checks(kind, local_grant)]
    name = f"wps_token_{kind}_{'grant' if local_grant else 'no_grant'}_v5"
    if kind == "upload":  # no file is asked for
        statement = select(*columns, *_file_columns(null(), null(), null())).where(
            WorkPackage.id == _PACKAGE_ID
        )
        return PreparedQuery(name, statement)
    return PreparedQuery(name, _on_postgresql(*columns), portable=_portable(*columns))


#: Per route kind ("download", "upload", "any") and grant location: with grants in
#: this database the grant check rides along; with an external access API it is
#: asked separately.
_QUERIES = {
    (kind, local_grant): _query(kind, local_grant)
    for kind in ("download", "upload", "any")
    for local_grant in (True, False)
}


def loaded_package(row: tuple | None) -> LoadedPackage | None:
    """The statement's row as a `LoadedPackage` (None: no such package)."""
    if row is None:
        return None
    fields = len(Package.__slots__)
    blocked, until, waits, in_package, in_dataset, file_id = row[fields + 1 :]
    return LoadedPackage(
        package=Package(*row[:fields]),
        target_exists=bool(row[fields]),
        user_blocked=bool(blocked),
        access_until=until,
        file=DownloadableFile(bool(in_package), bool(in_dataset), file_id),
        waits_for_iva=bool(waits),
    )


def token_request_query(kind: str, with_local_grant: bool) -> PreparedQuery:
    """The one statement for a token request of `kind`; "any" serves every package.

    With "download" or "upload", a package of the other type comes back with
    checks that do not apply to it: ask again with "any" (see `LoadedPackage.type`).
    """
    return _QUERIES[kind, with_local_grant]


def load_package(package_id: UUID, now: datetime, with_local_grant: bool) -> LoadedPackage | None:
    """The package (any type), in the session's transaction."""
    query = token_request_query("any", with_local_grant)
    return loaded_package(query.first(package_id=package_id, accession=None, now=now))


def package_files(package_id: UUID) -> dict[str, str]:
    rows = db.session.execute(
        select(WorkPackageFile.accession, WorkPackageFile.extension)
        .where(WorkPackageFile.work_package_id == package_id)
        .order_by(WorkPackageFile.position)
    )
    return dict(rows.all())
