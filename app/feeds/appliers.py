"""What each (topic, type) means: its payload schema, its key, and how it is applied.

Appliers call the same catalog services as the steward endpoints.
"""

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum

from pydantic import UUID4, BaseModel, ConfigDict, TypeAdapter

from app.catalog import services as catalog
from app.catalog.schemas import (
    DatasetAccession,
    DatasetPayload,
    FileAccession,
    UploadBoxPayload,
)
from app.config import Settings


class Outcome(StrEnum):
    APPLIED = "applied"
    SKIPPED = "skipped"


class DatasetDeletion(BaseModel):
    model_config = ConfigDict(extra="ignore")
    accession: DatasetAccession


class AccessionMapping(BaseModel):
    model_config = ConfigDict(extra="ignore")
    accession: FileAccession
    file_id: UUID4


class AnyPayload(BaseModel):
    """Deletions keyed by id carry nothing we need."""

    model_config = ConfigDict(extra="allow")


@dataclass(frozen=True)
class Applier:
    payload: type[BaseModel]
    key: TypeAdapter
    #: Payload field that must equal the event key, if any.
    key_field: str | None
    apply: Callable[[str, BaseModel], Outcome]


def _upsert_dataset(key: str, payload: DatasetPayload) -> Outcome:
    catalog.upsert_dataset(payload)
    return Outcome.APPLIED


def _delete_dataset(key: str, payload) -> Outcome:
    with suppress(catalog.DatasetNotFound):  # already gone: deleting is idempotent
        catalog.delete_dataset(key)
    return Outcome.APPLIED


def _upsert_upload_box(key: str, payload: UploadBoxPayload) -> Outcome:
    try:
        catalog.upsert_upload_box(payload)
    except catalog.StaleUploadBoxVersion:
        return Outcome.SKIPPED
    return Outcome.APPLIED


def _delete_upload_box(key: str, payload) -> Outcome:
    with suppress(catalog.UploadBoxNotFound):
        catalog.delete_upload_box(TypeAdapter(UUID4).validate_python(key))
    return Outcome.APPLIED


def _put_accession_map(key: str, payload: AccessionMapping) -> Outcome:
    catalog.put_accession_map(payload.accession, payload.file_id)
    return Outcome.APPLIED


def _delete_accession_map(key: str, payload) -> Outcome:
    with suppress(catalog.AccessionMapNotFound):
        catalog.delete_accession_map(key)
    return Outcome.APPLIED


def make_appliers(settings: Settings) -> dict[tuple[str, str], Applier]:
    dataset_key = TypeAdapter(DatasetAccession)
    box_key = TypeAdapter(UUID4)
    accession_key = TypeAdapter(FileAccession)
    return {
        (settings.dataset_change_topic, settings.dataset_upsertion_type): Applier(
            DatasetPayload, dataset_key, "accession", _upsert_dataset
        ),
        (settings.dataset_change_topic, settings.dataset_deletion_type): Applier(
            DatasetDeletion, dataset_key, "accession", _delete_dataset
        ),
        (settings.upload_box_topic, settings.upload_box_upsertion_type): Applier(
            UploadBoxPayload, box_key, "id", _upsert_upload_box
        ),
        (settings.upload_box_topic, settings.upload_box_deletion_type): Applier(
            AnyPayload, box_key, None, _delete_upload_box
        ),
        (settings.accession_map_topic, settings.accession_map_upsertion_type): Applier(
            AccessionMapping, accession_key, "accession", _put_accession_map
        ),
        (settings.accession_map_topic, settings.accession_map_deletion_type): Applier(
            AnyPayload, accession_key, None, _delete_accession_map
        ),
    }
