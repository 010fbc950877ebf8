"""DRS objects from the catalog, and each person's Crypt4GH stream of a file.

A file accession is a blob; a dataset accession is a bundle whose contents are its
files that have stored content. The bytes a person fetches are a stream made for
them: a Crypt4GH header carrying the file's data key for their public key, then the
stored data segments. A worker builds the header once per (person, file, key) and
reads the stream through once for its size and SHA-256 (`build_envelope`).
"""

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.catalog.models import AccessionMap, Dataset, DatasetFile
from app.database import utc_now
from app.drs.models import DrsEnvelope
from app.drs.schemas import STREAM_ACCESS_ID
from app.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.storage import object_store
from app.storage.keys import storage_keys
from app.storage.signed_urls import sign_url, signature_is_valid
from app.transfer import crypt4gh_files
from app.transfer.models import StoredFile
from app.transfer.services import data_key

STREAM_PATH = "/ga4gh/drs/v1/streams/{envelope_id}"
RETRY_SECONDS = 5


class ObjectNotFound(NotFound):
    """No DRS object has this id."""

    code = "drs_object_not_found"


class AccessIdNotFound(NotFound):
    """The object has no access method with this id."""

    code = "drs_access_id_not_found"


class PublicKeyMissing(Conflict):
    """Set your Crypt4GH public key on your profile first: DRS downloads are sealed to it."""

    code = "crypt4gh_key_missing"


class StreamStillPreparing(DomainError):
    """The requester's stream is being prepared; ask again shortly."""

    status, code = 202, "drs_object_preparing"

    def headers(self) -> dict:
        return {"Retry-After": str(RETRY_SECONDS)}


@dataclass(frozen=True)
class Blob:
    accession: str
    file: DatasetFile
    datasets: tuple[str, ...]
    stored: StoredFile | None


@dataclass(frozen=True)
class Bundle:
    dataset: Dataset
    blobs: tuple[Blob, ...]

    @property
    def datasets(self) -> tuple[str, ...]:
        return (self.dataset.accession,)


def _settings():
    return current_app.extensions["settings"]


def drs_uri(object_id: str) -> str:
    return f"drs://{_settings().drs_host}/{object_id}"


def find_object(object_id: str) -> Blob | Bundle:
    dataset = db.session.get(Dataset, object_id)
    if dataset is not None:
        blobs = _blobs([file.accession for file in dataset.files])
        return Bundle(dataset, tuple(blob for blob in blobs if blob.stored is not None))
    blobs = _blobs([object_id])
    if not blobs:
        raise ObjectNotFound(f"No DRS object has the id {object_id!r}")
    return blobs[0]


def _blobs(accessions: list[str]) -> list[Blob]:
    if not accessions:
        return []
    rows = db.session.execute(
        select(DatasetFile, StoredFile)
        .outerjoin(AccessionMap, AccessionMap.accession == DatasetFile.accession)
        .outerjoin(StoredFile, StoredFile.file_id == AccessionMap.file_id)
        .where(DatasetFile.accession.in_(accessions))
        .order_by(DatasetFile.dataset_accession, DatasetFile.position)
    ).all()
    found: dict[str, Blob] = {}
    for file, stored in rows:
        known = found.get(file.accession)
        datasets = (known.datasets if known else ()) + (file.dataset_accession,)
        found[file.accession] = Blob(file.accession, file, datasets, stored)
    return [found[accession] for accession in accessions if accession in found]


def recipient_key(account) -> str:
    if not account.crypt4gh_public_key:
        raise PublicKeyMissing()
    return account.crypt4gh_public_key


def envelope_of(user_id: UUID, blob: Blob, public_key: str) -> tuple[DrsEnvelope, bool]:
    """The person's envelope of the file, made (empty, for a worker to fill) when new."""
    if blob.stored is None:
        raise ObjectNotFound(f"{blob.accession} has no stored content yet")
    query = select(DrsEnvelope).where(
        DrsEnvelope.user_id == user_id,
        DrsEnvelope.file_id == blob.stored.file_id,
        DrsEnvelope.public_key == public_key,
    )
    envelope = db.session.scalars(query).first()
    if envelope is not None:
        return envelope, False
    envelope = DrsEnvelope(user_id=user_id, file_id=blob.stored.file_id, public_key=public_key)
    try:
        with db.session.begin_nested():
            db.session.add(envelope)
    except IntegrityError:  # a concurrent request made it
        return db.session.scalars(query).one(), False
    return envelope, True


def build_envelope(envelope_id: UUID) -> str:
    """Fill the envelope: the header for the person's key, the stream's size and SHA-256.

    Idempotent; runs on a worker. The header is made once and kept, so the size and
    checksum the person was told stay true of every download of it.
    """
    envelope = db.session.get(DrsEnvelope, envelope_id, with_for_update=True)
    if envelope is None:
        return "gone"
    if envelope.ready_at is not None:
        return "ready"
    stored = db.session.get(StoredFile, envelope.file_id)
    if stored is None:
        db.session.delete(envelope)
        db.session.flush()
        return "no_content"
    header = crypt4gh_files.envelope(
        data_key(stored), storage_keys().private, base64.b64decode(envelope.public_key)
    )
    digest, size = hashlib.sha256(header), len(header)
    for chunk in object_store().read_object(stored.object_key):
        digest.update(chunk)
        size += len(chunk)
    envelope.header, envelope.size, envelope.sha256 = header, size, digest.hexdigest()
    envelope.ready_at = utc_now()
    db.session.flush()
    return "ready"


def stream_url(envelope: DrsEnvelope) -> str:
    settings = _settings()
    path = STREAM_PATH.format(envelope_id=envelope.id)
    return sign_url(
        str(settings.public_base_url).rstrip("/"),
        current_app.config["SECRET_KEY"],
        "GET",
        path,
        settings.signed_url_valid_seconds,
    )


def stream_signature_holds(path: str, expires: str | None, signature: str | None) -> bool:
    return signature_is_valid(current_app.config["SECRET_KEY"], "GET", path, expires, signature)


def stream_of(envelope_id: UUID):
    """(envelope, chunks of its stream) of a ready envelope whose content is stored."""
    envelope = db.session.get(DrsEnvelope, envelope_id)
    stored = db.session.get(StoredFile, envelope.file_id) if envelope else None
    if envelope is None or envelope.ready_at is None or stored is None:
        raise ObjectNotFound("No such stream")

    # The body streams after the request's context has ended: take what it needs now.
    header, store, object_key = envelope.header, object_store(), stored.object_key

    def chunks():
        yield header
        yield from store.read_object(object_key)

    return envelope, chunks()


def require_access_id(access_id: str) -> None:
    if access_id != STREAM_ACCESS_ID:
        raise AccessIdNotFound(
            f"No access method {access_id!r}; this service offers {STREAM_ACCESS_ID!r}"
        )


def bundle_checksum(checksums: list[str]) -> str:
    """DRS: the SHA-256 of the contents' SHA-256 checksums, sorted and concatenated."""
    return hashlib.sha256("".join(sorted(checksums)).encode()).hexdigest()


def catalog_totals() -> tuple[int, int]:
    """(objects, bytes) for service-info: files with stored content, their stored size."""
    count, size = db.session.execute(
        select(
            func.count(func.distinct(StoredFile.file_id)),
            func.coalesce(func.sum(StoredFile.content_size), 0),
        )
        .select_from(AccessionMap)
        .join(StoredFile, StoredFile.file_id == AccessionMap.file_id)
        .where(AccessionMap.accession.in_(select(DatasetFile.accession)))
    ).one()
    datasets = db.session.scalar(select(func.count()).select_from(Dataset))
    return int(count) + int(datasets or 0), int(size)


def created_time(blob: Blob) -> datetime:
    return blob.stored.created_at if blob.stored else utc_now()
