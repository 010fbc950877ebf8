"""Creating work packages and issuing their work order tokens."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from flask import current_app
from sqlalchemy import Uuid, delete, insert, literal, select

from app.access.policy import AccessPolicy, access_policy
from app.catalog import services as catalog
from app.catalog.models import Dataset, DatasetFile, UploadBox
from app.credentials.crypt4gh_keys import seal
from app.credentials.internal_tokens import AuthUser
from app.credentials.keys import TokenKeys
from app.credentials.work_order_tokens import sign_work_order
from app.credentials.work_package_access_tokens import (
    access_token_matches,
    generate_access_token,
    hash_access_token,
)
from app.database import utc_now
from app.errors import Conflict, Forbidden
from app.extensions import db
from app.work_packages import queries
from app.work_packages.models import WorkPackage, WorkPackageFile
from app.work_packages.queries import Package
from app.work_packages.schemas import (
    BoxWithExpiration,
    CreationRequest,
    DatasetFileEntry,
    DatasetWithExpiration,
    UploadWorkOrderRequest,
    WorkPackageDetails,
    WorkPackageType,
)


class WorkPackageAccessDenied(Forbidden):
    """Access to this work package is denied."""

    code = "work_package_access_denied"


class AccessDenied(Forbidden):
    """Missing access permission."""

    code = "access_denied"


class IvaNotVerified(Forbidden):
    """Download access is bound to a verification address that is not verified (now)."""

    code = "iva_not_verified"

    def __init__(self):
        super().__init__(
            "Download access is bound to a verification address that is not verified: "
            "ask a data steward to verify it again"
        )


class DatasetNotDownloadable(Conflict):
    """The dataset is not in the download stage."""

    code = "dataset_not_downloadable"


@dataclass(frozen=True)
class Created:
    package: WorkPackage
    sealed_token: str


def create_work_package(user: AuthUser, request: CreationRequest) -> Created:
    if request.type is WorkPackageType.DOWNLOAD:
        return _create_download_package(user, request)
    return _create_upload_package(user, request)


def _create_download_package(user: AuthUser, request: CreationRequest) -> Created:
    policy = access_policy()
    access_until = policy.download_access_until(user.id, request.dataset_id)
    if access_until is None:
        if policy.download_waits_for_iva(user.id, request.dataset_id):
            raise IvaNotVerified()
        raise AccessDenied("Missing dataset access permission")
    dataset = catalog.get_dataset(request.dataset_id, with_files=False)
    if dataset.stage != "download":
        raise DatasetNotDownloadable(
            f"Dataset {dataset.accession} is in the {dataset.stage} stage and cannot be "
            "downloaded yet"
        )
    package, token = _new_package(user, request, access_until, dataset_accession=dataset.accession)
    if not _copy_files(package.id, dataset.accession, request.file_ids):
        raise AccessDenied("No existing files have been specified", code="no_files")
    return Created(package, seal(token, request.user_public_crypt4gh_key))


def _copy_files(package_id: UUID, dataset_accession: str, wanted: list[str] | None) -> int:
    """Copy the dataset's (chosen) files into the package inside the database.

    One INSERT ... SELECT: a 10,000-file dataset never becomes Python objects.
    Accessions the dataset does not list are dropped by the join itself.
    """
    source = select(
        literal(package_id, Uuid),
        DatasetFile.accession,
        DatasetFile.position,
        DatasetFile.extension,
    ).where(DatasetFile.dataset_accession == dataset_accession)
    if wanted is not None:
        source = source.where(DatasetFile.accession.in_(set(wanted)))
    columns = ["work_package_id", "accession", "position", "extension"]
    return db.session.execute(insert(WorkPackageFile).from_select(columns, source)).rowcount


def _create_upload_package(user: AuthUser, request: CreationRequest) -> Created:
    box_id = request.research_data_upload_box_id
    access_until = access_policy().upload_access_until(user.id, box_id)
    if access_until is None:
        raise AccessDenied("Missing upload box access permission")
    box = catalog.get_upload_box(box_id)
    package, token = _new_package(
        user,
        request,
        access_until,
        research_data_upload_box_id=box.id,
        file_upload_box_id=box.file_upload_box_id,
    )
    return Created(package, seal(token, request.user_public_crypt4gh_key))


def _new_package(user, request, access_until: datetime, **target) -> tuple[WorkPackage, str]:
    created = utc_now()
    valid_days = current_app.extensions["settings"].work_package_valid_days
    token = generate_access_token()
    package = WorkPackage(
        id=uuid4(),
        type=request.type.value,
        user_id=user.id,
        full_user_name=user.full_name,
        email=str(user.email),
        user_public_crypt4gh_key=request.user_public_crypt4gh_key,
        token_hash=hash_access_token(token),
        created=created,
        expires=min(created + timedelta(days=valid_days), access_until),
        **target,
    )
    db.session.add(package)
    db.session.flush()
    return package, token


def authorize(package_id: UUID, access_token: str) -> Package:
    """The package, if the token opens it and it may still be used; else 403.

    The grant behind the package is checked again on every use.
    """
    now = utc_now()
    policy = access_policy()
    loaded = queries.load_package(package_id, now, with_local_grant=policy.local)
    return check_access(loaded, access_token, now, policy)


def check_access(
    loaded: queries.LoadedPackage | None, access_token: str, now: datetime, policy: AccessPolicy
) -> Package:
    """The loaded package, if the token opens it and it may still be used; else 403."""
    if loaded is None or not access_token_matches(access_token, loaded.package.token_hash):
        raise WorkPackageAccessDenied("Invalid work package access token")
    package = loaded.package
    if not package.created <= now < package.expires:
        raise WorkPackageAccessDenied("Work package has expired", code="work_package_expired")
    kind = package.type.title()
    if loaded.user_blocked:
        raise WorkPackageAccessDenied(
            "The account of this work package is disabled", code="account_disabled"
        )
    if not loaded.target_exists:
        target = "dataset" if package.type == "download" else "upload box"
        raise WorkPackageAccessDenied(
            f"The {target} of this work package has been removed", code="target_removed"
        )
    access_until = loaded.access_until if policy.local else _external_access_until(package, policy)
    if access_until is None:
        if package.type == "download" and loaded.waits_for_iva:
            raise IvaNotVerified()
        raise WorkPackageAccessDenied(f"{kind} access has been revoked", code="access_revoked")
    return package


def _external_access_until(package: Package, policy: AccessPolicy) -> datetime | None:
    if package.type == "download":
        return policy.download_access_until(package.user_id, package.dataset_accession)
    return policy.upload_access_until(package.user_id, package.research_data_upload_box_id)


def details(package: Package) -> WorkPackageDetails:
    files = queries.package_files(package.id) if package.type == "download" else {}
    return WorkPackageDetails(
        type=package.type,
        files=files,
        research_data_upload_box_id=package.research_data_upload_box_id,
        file_upload_box_id=package.file_upload_box_id,
        created=package.created,
        expires=package.expires,
    )


def download_claims(package: Package, accession: str, file: queries.DownloadableFile) -> dict:
    """The claims of a download work order token, or 403 naming what is wrong."""
    if package.type != "download":
        raise WorkPackageAccessDenied(
            "Work package type must be download to obtain a download work order token",
            code="wrong_work_package_type",
        )
    if not file.in_package:
        raise WorkPackageAccessDenied(
            "File is not contained in work package", code="file_not_in_work_package"
        )
    if not file.in_dataset or file.file_id is None:
        raise WorkPackageAccessDenied("File not available for download", code="file_not_available")
    return {
        "work_type": "download",
        "file_id": str(file.file_id),
        "accession": accession,
        "user_public_crypt4gh_key": package.user_public_crypt4gh_key,
    }


def upload_claims(package: Package, box_id: UUID, request: UploadWorkOrderRequest) -> dict:
    """The claims of an upload box work order token, or 403 naming what is wrong."""
    if package.type != "upload":
        raise WorkPackageAccessDenied(
            "Work package type must be upload to obtain an upload work order token",
            code="wrong_work_package_type",
        )
    if box_id != package.research_data_upload_box_id:
        raise WorkPackageAccessDenied("Specified box ID is incorrect", code="wrong_box")
    claims: dict = {"work_type": request.work_type}
    if request.work_type == "create":
        claims["alias"] = request.alias
    elif request.work_type != "view":
        claims["file_id"] = str(request.file_id)
    claims["box_id"] = str(package.file_upload_box_id)
    claims["user_public_crypt4gh_key"] = package.user_public_crypt4gh_key
    return claims


def sealed_work_order(claims: dict, package: Package, keys: TokenKeys) -> str:
    """The signed token, sealed to the package's Crypt4GH key."""
    return seal(sign_work_order(claims, keys), package.user_public_crypt4gh_key)


def accessible_datasets(user_id: UUID) -> list[DatasetWithExpiration]:
    until = access_policy().accessible_datasets(user_id)
    if not until:
        return []
    datasets = db.session.scalars(
        select(Dataset).where(Dataset.accession.in_(until)).order_by(Dataset.accession)
    )
    return [
        DatasetWithExpiration(
            id=dataset.accession,
            stage=dataset.stage,
            title=dataset.title,
            description=dataset.description,
            files=[
                DatasetFileEntry(accession=f.accession, extension=f.extension)
                for f in dataset.files
            ],
            expires=until[dataset.accession],
        )
        for dataset in datasets
    ]


def accessible_boxes(user_id: UUID) -> list[BoxWithExpiration]:
    until = access_policy().accessible_boxes(user_id)
    if not until:
        return []
    boxes = db.session.scalars(
        select(UploadBox).where(UploadBox.id.in_(until)).order_by(UploadBox.title, UploadBox.id)
    )
    return [
        BoxWithExpiration(
            id=box.id,
            file_upload_box_id=box.file_upload_box_id,
            title=box.title,
            description=box.description,
            expires=until[box.id],
        )
        for box in boxes
    ]


def sweep_expired(expired_before: datetime) -> int:
    """Delete packages (and their file lists) that expired before the given time."""
    result = db.session.execute(delete(WorkPackage).where(WorkPackage.expires < expired_before))
    return result.rowcount


def delete_packages_of_box(box_id: UUID) -> None:
    """The catalog deletes the box (`upload_box_deleting`): its packages go with it,
    in the same transaction, so their tokens open nothing."""
    db.session.execute(delete(WorkPackage).where(WorkPackage.research_data_upload_box_id == box_id))


def active_packages(user_id: UUID) -> list[WorkPackage]:
    """The user's packages that have not expired, newest first (tokens are never kept)."""
    return list(
        db.session.scalars(
            select(WorkPackage)
            .where(WorkPackage.user_id == user_id, WorkPackage.expires > utc_now())
            .order_by(WorkPackage.created.desc(), WorkPackage.id)
        )
    )
