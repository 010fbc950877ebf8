"""Catalog changes for many resources at once: one statement per table (feed appliers).

Each function writes the same rows as its one-at-a-time counterpart in `services`
would for every item, with multi-row `INSERT … ON CONFLICT` and `DELETE … IN`.
Each resource appears at most once per call (the caller folds a key's events
first); a constraint violation raises, and the caller falls back to one event at
a time, where the single-item services name the problem.
"""

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import delete, select

from app.catalog.models import AccessionMap, Dataset, DatasetFile, UploadBox
from app.catalog.schemas import DatasetPayload, UploadBoxPayload
from app.catalog.signals import upload_box_deleting
from app.database import utc_now
from app.database.many_rows import insert_many
from app.extensions import db

# Keys per `IN (…)` list.
_ROWS_PER_STATEMENT = 1000


def upsert_datasets(payloads: list[DatasetPayload]) -> None:
    """Store each dataset as given, its file list replaced (as `services.upsert_dataset`)."""
    if not payloads:
        return
    now = utc_now()
    rows = [
        {
            "accession": p.accession,
            "title": p.title,
            "description": p.description,
            "stage": p.stage.value,
            "dac_alias": p.dac_alias,
            "dac_email": str(p.dac_email),
            "updated_at": now,
        }
        for p in payloads
    ]
    _upsert(Dataset, rows, ["accession"])
    accessions = [p.accession for p in payloads]
    files = [
        {
            "dataset_accession": p.accession,
            "accession": f.accession,
            "position": position,
            "extension": f.file_extension,
            "description": f.description,
        }
        for p in payloads
        for position, f in enumerate(p.files)
    ]
    # The file list is replaced: nothing refers to a dataset's file rows by key.
    for chunk in _chunks(accessions):
        db.session.execute(delete(DatasetFile).where(DatasetFile.dataset_accession.in_(chunk)))
    insert_many(db.session, DatasetFile.__table__, files)


def delete_datasets(accessions: Iterable[str]) -> None:
    """Delete the datasets (and their files); absent ones are already gone."""
    for chunk in _chunks(list(accessions)):
        db.session.execute(delete(DatasetFile).where(DatasetFile.dataset_accession.in_(chunk)))
        db.session.execute(delete(Dataset).where(Dataset.accession.in_(chunk)))


def upsert_upload_boxes(payloads: list[UploadBoxPayload]) -> set[UUID]:
    """Store each box unless a newer version is stored; returns the ids left stale."""
    if not payloads:
        return set()
    now = utc_now()
    rows = [
        {
            "id": p.id,
            "file_upload_box_id": p.file_upload_box_id,
            "version": p.version,
            "state": p.state.value,
            "title": p.title,
            "description": p.description,
            "storage_alias": p.storage_alias,
            "max_size": p.max_size,
            "updated_at": now,
        }
        for p in payloads
    ]
    written = insert_many(
        db.session,
        UploadBox.__table__,
        rows,
        conflict=["id"],
        update=[name for name in rows[0] if name != "id"],
        where="upload_box.version <= excluded.version",
        returning="id",
    )
    return {p.id for p in payloads} - set(written)


def delete_upload_boxes(box_ids: Iterable[UUID]) -> None:
    """Delete the boxes; as in `services.delete_upload_box` the signal goes out for each
    stored one under its row lock, and the work package room removes its packages."""
    for chunk in _chunks(list(box_ids)):
        stored = db.session.scalars(
            select(UploadBox.id).where(UploadBox.id.in_(chunk)).with_for_update()
        ).all()
        for box_id in stored:
            upload_box_deleting.send(box_id)
        db.session.execute(delete(UploadBox).where(UploadBox.id.in_(stored)))


def put_accession_maps(file_ids: dict[str, UUID]) -> None:
    now = utc_now()
    rows = [{"accession": a, "file_id": f, "updated_at": now} for a, f in file_ids.items()]
    _upsert(AccessionMap, rows, ["accession"])


def delete_accession_maps(accessions: Iterable[str]) -> None:
    for chunk in _chunks(list(accessions)):
        db.session.execute(delete(AccessionMap).where(AccessionMap.accession.in_(chunk)))


def _upsert(model, rows: list[dict], keys: list[str]) -> None:
    """One statement: each row inserted, or its stored row updated."""
    if rows:
        insert_many(
            db.session,
            model.__table__,
            rows,
            conflict=keys,
            update=[name for name in rows[0] if name not in keys],
        )


def _chunks(items: list) -> Iterable[list]:
    for start in range(0, len(items), _ROWS_PER_STATEMENT):
        yield items[start : start + _ROWS_PER_STATEMENT]
