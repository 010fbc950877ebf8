"""Catalog changes a steward makes, once for every channel (ADR 23).

The feed appliers (`POST /events`, Kafka) call the same services inside the
feed's own transaction; this is the API's (and any later page's) way in.
"""

from uuid import UUID

from app.audit_log import record
from app.authz import Actor, Permission
from app.catalog import services
from app.catalog.models import AccessionMap, Dataset, UploadBox
from app.catalog.schemas import DatasetPayload, UploadBoxPayload
from app.unit_of_work import commit


def put_upload_box(actor: Actor, payload: UploadBoxPayload) -> tuple[UploadBox, bool]:
    """Register or update the box (an older version: 409); True when it is new."""
    actor.require(Permission.DATA_STEWARD)
    box, created = services.upsert_upload_box(payload)
    record(actor, "upload box registered" if created else "upload box updated", str(box.id))
    commit()
    return box, created


def delete_upload_box(actor: Actor, box_id: UUID) -> None:
    """The box and its work packages go together, in one transaction."""
    actor.require(Permission.DATA_STEWARD)
    services.delete_upload_box(box_id)
    record(actor, "upload box deleted", str(box_id))
    commit()


def put_dataset(actor: Actor, payload: DatasetPayload) -> tuple[Dataset, bool]:
    """Register the dataset or replace it with its file list; True when it is new."""
    actor.require(Permission.DATA_STEWARD)
    dataset, created = services.upsert_dataset(payload)
    record(actor, "dataset registered" if created else "dataset replaced", dataset.accession)
    commit()
    return dataset, created


def delete_dataset(actor: Actor, accession: str) -> None:
    actor.require(Permission.DATA_STEWARD)
    services.delete_dataset(accession)
    record(actor, "dataset deleted", accession)
    commit()


def put_accession_map(actor: Actor, accession: str, file_id: UUID) -> tuple[AccessionMap, bool]:
    """Map the accession to the storage file id; True when the mapping is new."""
    actor.require(Permission.DATA_STEWARD)
    mapping, created = services.put_accession_map(accession, file_id)
    record(actor, "accession mapped", f"{accession} to {file_id}")
    commit()
    return mapping, created


def delete_accession_map(actor: Actor, accession: str) -> None:
    actor.require(Permission.DATA_STEWARD)
    services.delete_accession_map(accession)
    record(actor, "accession map deleted", accession)
    commit()
