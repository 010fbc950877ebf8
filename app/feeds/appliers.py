"""What each (topic, type) means: its payload schema, its key, and how it is applied.

Appliers call the same catalog services as the steward endpoints, one event at a
time (`apply`), or the catalog's bulk writes for the latest event of many keys at
once (`apply_many`, returning the keys whose event turned out stale).
"""

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum

from pydantic import UUID4, BaseModel, ConfigDict, TypeAdapter

from app.catalog import bulk
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
    apply_many: Callable[[list[tuple[str, BaseModel]]], set[str]]
    #: The payload carries its own version and an older one is skipped: a key with
    #: several pending events then goes one event at a time, so each event's status
    #: is what it would be alone.
    versioned: bool = False


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


def _upsert_datasets(items: list[tuple[str, DatasetPayload]]) -> set[str]:
    bulk.upsert_datasets([payload for _, payload in items])
    return set()


def _delete_datasets(items: list[tuple[str, BaseModel]]) -> set[str]:
    bulk.delete_datasets(key for key, _ in items)
    return set()


def _upsert_upload_boxes(items: list[tuple[str, UploadBoxPayload]]) -> set[str]:
    stale = bulk.upsert_upload_boxes([payload for _, payload in items])
    return {key for key, payload in items if payload.id in stale}


def _delete_upload_boxes(items: list[tuple[str, BaseModel]]) -> set[str]:
    bulk.delete_upload_boxes(TypeAdapter(UUID4).validate_python(key) for key, _ in items)
    return set()


def _put_accession_maps(items: list[tuple[str, AccessionMapping]]) -> set[str]:
    bulk.put_accession_maps({payload.accession: payload.file_id for _, payload in items})
    return set()


def _delete_accession_maps(items: list[tuple[str, BaseModel]]) -> set[str]:
    bulk.delete_accession_maps(key for key, _ in items)
    return set()


def make_appliers(settings: Settings) -> dict[tuple[str, str], Applier]:
    dataset_key = TypeAdapter(DatasetAccession)
    box_key = TypeAdapter(UUID4)
    accession_key = TypeAdapter(FileAccession)
    return {
        (settings.dataset_change_topic, settings.dataset_upsertion_type): Applier(
            DatasetPayload, dataset_key, "accession", _upsert_dataset, _upsert_datasets
        ),
        (settings.dataset_change_topic, settings.dataset_deletion_type): Applier(
            DatasetDeletion, dataset_key, "accession", _delete_dataset, _delete_datasets
        ),
        (settings.upload_box_topic, settings.upload_box_upsertion_type): Applier(
            UploadBoxPayload,
            box_key,
            "id",
            _upsert_upload_box,
            _upsert_upload_boxes,
            versioned=True,
        ),
        (settings.upload_box_topic, settings.upload_box_deletion_type): Applier(
            AnyPayload, box_key, None, _delete_upload_box, _delete_upload_boxes
        ),
        (settings.accession_map_topic, settings.accession_map_upsertion_type): Applier(
            AccessionMapping, accession_key, "accession", _put_accession_map, _put_accession_maps
        ),
        (settings.accession_map_topic, settings.accession_map_deletion_type): Applier(
            AnyPayload, accession_key, None, _delete_accession_map, _delete_accession_maps
        ),
    }
