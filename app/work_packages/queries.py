"""The queries on the token hot path: at most two round trips per work order token."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, case, exists, select

from app.access import queries as grants
from app.catalog.models import AccessionMap, Dataset, DatasetFile, UploadBox
from app.extensions import db
from app.work_packages.models import WorkPackage, WorkPackageFile


@dataclass(frozen=True)
class LoadedPackage:
    package: WorkPackage
    target_exists: bool
    #: Until when the grant behind the package runs; only with local grants.
    access_until: datetime | None


def load_package(package_id: UUID, now: datetime, with_local_grant: bool) -> LoadedPackage | None:
    """The package, whether its dataset or box still exists, and (local grants) its grant."""
    target_exists = case(
        (
            WorkPackage.type == "download",
            exists().where(Dataset.accession == WorkPackage.dataset_accession),
        ),
        else_=exists().where(UploadBox.id == WorkPackage.research_data_upload_box_id),
    )
    columns = [WorkPackage, target_exists]
    if with_local_grant:
        columns.append(
            case(
                (
                    WorkPackage.type == "download",
                    grants.download_access_until(
                        WorkPackage.user_id, WorkPackage.dataset_accession, now
                    ),
                ),
                else_=grants.upload_access_until(
                    WorkPackage.user_id, WorkPackage.research_data_upload_box_id, now
                ),
            )
        )
    row = db.session.execute(select(*columns).where(WorkPackage.id == package_id)).first()
    if row is None:
        return None
    return LoadedPackage(
        package=row[0],
        target_exists=bool(row[1]),
        access_until=row[2] if with_local_grant else None,
    )


@dataclass(frozen=True)
class DownloadableFile:
    in_package: bool
    in_dataset: bool
    file_id: UUID | None


def downloadable_file(package: WorkPackage, accession: str) -> DownloadableFile:
    """Is the file in the package, still listed by the dataset, and mapped to a file id?"""
    row = db.session.execute(
        select(DatasetFile.accession, AccessionMap.file_id)
        .select_from(WorkPackageFile)
        .outerjoin(
            DatasetFile,
            and_(
                DatasetFile.accession == WorkPackageFile.accession,
                DatasetFile.dataset_accession == package.dataset_accession,
            ),
        )
        .outerjoin(AccessionMap, AccessionMap.accession == WorkPackageFile.accession)
        .where(
            WorkPackageFile.work_package_id == package.id,
            WorkPackageFile.accession == accession,
        )
    ).first()
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
