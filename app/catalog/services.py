"""Catalog changes and lookups; steward endpoints and feed appliers both call these."""

from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.orm import lazyload

from app.catalog.models import AccessionMap, Dataset, DatasetFile, UploadBox
from app.catalog.schemas import DatasetPayload, UploadBoxPayload
from app.catalog.signals import upload_box_deleting
from app.database import fetch_page
from app.errors import Conflict, NotFound
from app.extensions import db


class DatasetNotFound(NotFound):
    """Dataset not found."""

    code = "dataset_not_found"


class UploadBoxNotFound(NotFound):
    """Upload box not found."""

    code = "upload_box_not_found"


class AccessionMapNotFound(NotFound):
    """No file id is mapped to this accession."""

    code = "accession_map_not_found"


class StaleUploadBoxVersion(Conflict):
    """A newer version of this upload box is already stored."""

    code = "stale_version"


def upsert_dataset(payload: DatasetPayload) -> tuple[Dataset, bool]:
    """Store the dataset as given, replacing its file list; True when it is new."""
    dataset = db.session.get(Dataset, payload.accession)
    created = dataset is None
    if created:
        dataset = Dataset(accession=payload.accession)
        db.session.add(dataset)
    dataset.title = payload.title
    dataset.description = payload.description
    dataset.stage = payload.stage.value
    dataset.dac_alias = payload.dac_alias
    dataset.dac_email = str(payload.dac_email)
    _replace_files(dataset, payload)
    db.session.flush()
    return dataset, created


def _replace_files(dataset: Dataset, payload: DatasetPayload) -> None:
    existing = {file.accession: file for file in dataset.files}
    files = []
    for position, given in enumerate(payload.files):
        file = existing.get(given.accession) or DatasetFile(accession=given.accession)
        file.position = position
        file.extension = given.file_extension
        file.description = given.description
        files.append(file)
    dataset.files = files


def get_dataset(accession: str, with_files: bool = True) -> Dataset:
    options = [] if with_files else [lazyload(Dataset.files)]
    dataset = db.session.get(Dataset, accession, options=options)
    if dataset is None:
        raise DatasetNotFound(f"Dataset {accession} not found")
    return dataset


def delete_dataset(accession: str) -> None:
    db.session.delete(get_dataset(accession))
    db.session.flush()


def list_datasets(skip: int, limit: int) -> tuple[list[tuple[Dataset, int]], int]:
    """One page of datasets, each with its number of files (the files stay unloaded)."""
    file_count = (
        select(func.count())
        .where(DatasetFile.dataset_accession == Dataset.accession)
        .correlate(Dataset)
        .scalar_subquery()
    )
    query = select(Dataset, file_count).options(lazyload(Dataset.files)).order_by(Dataset.accession)
    total = db.session.scalar(select(func.count()).select_from(Dataset))
    rows = db.session.execute(query.offset(skip).limit(limit)).all()
    return [(dataset, count) for dataset, count in rows], total


def list_dataset_files(accession: str, skip: int, limit: int) -> tuple[list[DatasetFile], int]:
    """One page of a dataset's files, in the dataset's order."""
    get_dataset(accession, with_files=False)
    query = (
        select(DatasetFile)
        .where(DatasetFile.dataset_accession == accession)
        .order_by(DatasetFile.position, DatasetFile.accession)
    )
    return _page(query, skip, limit)


def search_datasets(text: str, skip: int, limit: int) -> tuple[list[Dataset], int]:
    """Datasets whose accession or title contains `text` (any case), by accession."""
    query = select(Dataset).options(lazyload(Dataset.files)).order_by(Dataset.accession)
    text = text.strip()
    if text:
        query = query.where(
            or_(
                Dataset.accession.icontains(text, autoescape=True),
                Dataset.title.icontains(text, autoescape=True),
            )
        )
    return _page(query, skip, limit)


def file_counts(accessions: list[str]) -> dict[str, int]:
    """How many files each of these datasets lists."""
    if not accessions:
        return {}
    rows = db.session.execute(
        select(DatasetFile.dataset_accession, func.count())
        .where(DatasetFile.dataset_accession.in_(accessions))
        .group_by(DatasetFile.dataset_accession)
    )
    return dict(rows.all())


def upsert_upload_box(payload: UploadBoxPayload) -> tuple[UploadBox, bool]:
    """Store the box unless a newer version is stored; True when it is new."""
    box = db.session.get(UploadBox, payload.id, with_for_update=True)
    created = box is None
    if box is not None and payload.version < box.version:
        raise StaleUploadBoxVersion(
            f"Upload box {payload.id} is at version {box.version}; "
            f"version {payload.version} is older"
        )
    _refuse_shared_file_upload_box(payload)
    if created:
        box = UploadBox(id=payload.id)
        db.session.add(box)
    box.file_upload_box_id = payload.file_upload_box_id
    box.version = payload.version
    box.state = payload.state.value
    box.title = payload.title
    box.description = payload.description
    box.storage_alias = payload.storage_alias
    box.max_size = payload.max_size
    db.session.flush()
    return box, created


def _refuse_shared_file_upload_box(payload: UploadBoxPayload) -> None:
    owner = db.session.scalar(
        select(UploadBox.id).where(
            UploadBox.file_upload_box_id == payload.file_upload_box_id,
            UploadBox.id != payload.id,
        )
    )
    if owner is not None:
        raise Conflict(
            f"File upload box {payload.file_upload_box_id} belongs to upload box {owner}",
            code="file_upload_box_taken",
        )


def get_upload_box(box_id: UUID) -> UploadBox:
    box = db.session.get(UploadBox, box_id)
    if box is None:
        raise UploadBoxNotFound(f"Upload box {box_id} not found")
    return box


def delete_upload_box(box_id: UUID) -> None:
    """Delete the box and, as GHGA's WPS 11.1 does, every work package for it (their
    tokens then open nothing): the work package room removes those on the signal."""
    box = db.session.get(UploadBox, box_id, with_for_update=True)
    if box is None:
        raise UploadBoxNotFound(f"Upload box {box_id} not found")
    upload_box_deleting.send(box_id)
    db.session.delete(box)
    db.session.flush()


def list_upload_boxes(skip: int, limit: int) -> tuple[list[UploadBox], int]:
    return _page(select(UploadBox).order_by(UploadBox.title, UploadBox.id), skip, limit)


def put_accession_map(accession: str, file_id: UUID) -> tuple[AccessionMap, bool]:
    mapping = db.session.get(AccessionMap, accession)
    created = mapping is None
    if created:
        mapping = AccessionMap(accession=accession)
        db.session.add(mapping)
    mapping.file_id = file_id
    db.session.flush()
    return mapping, created


def get_accession_map(accession: str) -> AccessionMap:
    mapping = db.session.get(AccessionMap, accession)
    if mapping is None:
        raise AccessionMapNotFound(f"No file id is mapped to {accession}")
    return mapping


def delete_accession_map(accession: str) -> None:
    db.session.delete(get_accession_map(accession))
    db.session.flush()


def _page(query, skip: int, limit: int) -> tuple[list, int]:
    return fetch_page(db.session, query, skip, limit)
