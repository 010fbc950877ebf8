"""factory-boy factories; each commits so HTTP calls and workers see the rows."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import factory

from app.access import services as access
from app.access.schemas import GrantRequest
from app.applications.services import create_application_key
from app.catalog import services as catalog
from app.catalog.schemas import DatasetPayload, UploadBoxPayload
from app.extensions import db
from tests.support.secrets_seen import remember


class ApplicationKeyFactory(factory.Factory):
    """An application with a live key; the plaintext key is on `.key`."""

    class Meta:
        model = dict

    name = factory.Sequence(lambda n: f"application-{n}")
    permissions = ("ADMIN",)
    expires_at = None

    @classmethod
    def _create(cls, model_class, name, permissions, expires_at):
        issued = create_application_key(name, list(permissions), expires_at)
        db.session.commit()
        remember(issued.key)
        return issued


def dataset_payload(accession: str = "DS1", files: int = 2, stage: str = "download") -> dict:
    return {
        "accession": accession,
        "title": f"Dataset {accession}",
        "stage": stage,
        "description": "A test dataset",
        "dac_alias": "DAC1",
        "dac_email": "dac@example.org",
        "files": [
            {
                "accession": f"GHGAF{accession}{n:04d}",
                "description": f"file {n}",
                "file_extension": ".fastq.gz" if n % 2 else ".bam",
            }
            for n in range(files)
        ],
    }


def upload_box_payload(box_id=None, file_upload_box_id=None, version: int = 0, **changes) -> dict:
    return {
        "id": str(box_id or uuid4()),
        "version": version,
        "state": "open",
        "title": "Submission box",
        "description": "Files for the study",
        "file_upload_box_id": str(file_upload_box_id or uuid4()),
        "storage_alias": "local",
    } | changes


def ghga_v13_box(box_id=None, max_size=1000, version: int = 1, **changes) -> dict:
    """A `ResearchDataUploadBox` exactly as ghga-event-schemas 13 serialises it."""
    return {
        "id": str(box_id or uuid4()),
        "version": version,
        "state": "open",
        "title": "Submission box",
        "description": "Files for the study",
        "last_changed": datetime.now(UTC).isoformat(),
        "changed_by": str(uuid4()),
        "file_upload_box_id": str(uuid4()),
        "file_upload_box_version": 3,
        "file_upload_box_state": "open",
        "file_count": 0,
        "size": 0,
        "max_size": max_size,
        "storage_alias": "local",
    } | changes


def create_dataset(accession: str = "DS1", files: int = 2, stage: str = "download", mapped=True):
    """A committed dataset; with `mapped`, each file accession maps to a new file id."""
    dataset, _ = catalog.upsert_dataset(
        DatasetPayload.model_validate(dataset_payload(accession, files, stage))
    )
    if mapped:
        for file in dataset.files:
            catalog.put_accession_map(file.accession, uuid4())
    db.session.commit()
    return dataset


def create_upload_box(**changes):
    box, _ = catalog.upsert_upload_box(
        UploadBoxPayload.model_validate(upload_box_payload(**changes))
    )
    db.session.commit()
    return box


def grant(
    user_id, *, dataset=None, box=None, days: float = 30, starts_in_days: float = 0, iva_id=None
):
    now = datetime.now(UTC)
    request = GrantRequest(
        user_id=user_id,
        iva_id=iva_id,
        dataset_id=dataset,
        research_data_upload_box_id=box,
        valid_from=now + timedelta(days=starts_in_days) - timedelta(seconds=1),
        valid_until=now + timedelta(days=days),
    )
    created = access.create_grant(request, granted_by="test")
    db.session.commit()
    return created


def event(topic: str, type_: str, key: str, payload: dict, event_id=None, sequence=None) -> dict:
    body = {
        "event_id": event_id or f"evt-{uuid4()}",
        "topic": topic,
        "type": type_,
        "key": key,
        "payload": payload,
    }
    if sequence is not None:
        body["sequence"] = sequence
    return body


def dataset_event(accession="DS1", files=2, **options) -> dict:
    payload = dataset_payload(accession, files)
    return event("metadata-datasets", "dataset_upserted", accession, payload, **options)


def dataset_deleted_event(accession="DS1", **options) -> dict:
    payload = {"accession": accession}
    return event("metadata-datasets", "dataset_deleted", accession, payload, **options)


def box_event(payload: dict, **options) -> dict:
    return event("upload-boxes", "upserted", payload["id"], payload, **options)


def accession_map_event(accession: str, file_id=None, **options) -> dict:
    payload = {"accession": accession, "file_id": str(file_id or uuid4())}
    return event("file-accession-mappings", "upserted", accession, payload, **options)


def verified_iva(user_id, type_="phone", value="+49 6221 42"):
    """An address taken through every step of its lifecycle (tested in test_ivas)."""
    from app.ivas import services as ivas
    from app.ivas.models import IvaType

    iva = ivas.add(user_id, IvaType(type_), value, max_per_person=5)
    ivas.request_code(iva, per_day=3)
    code = ivas.create_code(iva)
    ivas.code_transmitted(iva)
    ivas.verify_code(iva, code, max_attempts=10, valid_days=7)
    db.session.commit()
    return iva
