"""Download and upload controller logic; the routes only parse and serialise."""

import base64
import hashlib
import logging
import os
from collections.abc import Iterator
from uuid import UUID, uuid4

from nacl.public import PrivateKey, PublicKey, SealedBox
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement

from app.catalog.models import AccessionMap, UploadBox
from app.database import fetch_page, utc_now
from app.extensions import db
from app.storage import object_store
from app.storage.keys import storage_keys
from app.transfer import crypt4gh_files
from app.transfer.errors import (
    BoxMaxSizeExceeded,
    BoxNotFound,
    BoxNotOpen,
    ChecksumMismatch,
    InvalidPartSize,
    InvalidWorkOrderToken,
    ObjectNotFound,
    TooManyOpenUploads,
    UploadAlreadyExists,
    UploadNotFound,
    UploadStateError,
)
from app.transfer.models import LIVE_STATES, FileUpload, StoredFile, UploadState
from app.transfer.schemas import UploadClosure, UploadCreation
from app.unit_of_work import after_commit

log = logging.getLogger(__name__)

STAGING_RETRY_SECONDS = 5


# -- download ------------------------------------------------------------------------


def stored_file_for(claims: dict, accession: str) -> StoredFile | None:
    """The stored content the download token names; None while it is being verified."""
    if claims.get("accession") != accession:
        raise InvalidWorkOrderToken("The work order token is for another file")
    file_id = UUID(claims["file_id"])
    stored = db.session.get(StoredFile, file_id)
    if stored is not None:
        return stored
    upload = db.session.get(FileUpload, file_id)
    if upload is not None and upload.state == UploadState.INBOX:
        return None
    raise ObjectNotFound(f"No content is stored for {accession}")


def with_content(accessions: list[str]) -> set[str]:
    """Which of these file accessions have content stored here (a download can fetch them)."""
    if not accessions:
        return set()
    query = (
        select(AccessionMap.accession)
        .join(StoredFile, StoredFile.file_id == AccessionMap.file_id)
        .where(AccessionMap.accession.in_(accessions))
    )
    return set(db.session.scalars(query))


def data_key(stored: StoredFile) -> bytes:
    opener = SealedBox(PrivateKey(storage_keys().private))
    return opener.decrypt(base64.b64decode(stored.sealed_data_key))


def envelope_for(stored: StoredFile, user_public_key: str) -> str:
    """A fresh Crypt4GH header carrying the file's data key for the user's key."""
    header = crypt4gh_files.envelope(
        data_key(stored), storage_keys().private, base64.b64decode(user_public_key)
    )
    return base64.b64encode(header).decode()


def import_plaintext(file_id: UUID, chunks: Iterator[bytes]) -> StoredFile:
    """Encrypt and store a file given in plain text (operators, tests, seeding)."""
    key = os.urandom(32)
    digest, size = hashlib.sha256(), 0

    def plaintext():
        nonlocal size
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            yield chunk

    store = object_store()
    segments = crypt4gh_files.encrypted_segments(plaintext(), key)
    content_size = store.write_object(str(file_id), segments)
    stored = _stored_file(file_id, store.alias, content_size, size, digest.hexdigest(), key)
    db.session.add(stored)
    db.session.flush()
    return stored


def _stored_file(file_id, alias, content_size, size, sha256, key) -> StoredFile:
    sealed = SealedBox(PublicKey(storage_keys().public)).encrypt(key)
    return StoredFile(
        file_id=file_id,
        storage_alias=alias,
        object_key=str(file_id),
        content_size=content_size,
        decrypted_size=size,
        decrypted_sha256=sha256,
        sealed_data_key=base64.b64encode(sealed).decode(),
        segment_count=-(-size // crypt4gh_files.SEGMENT_SIZE),
    )


# -- upload --------------------------------------------------------------------------


def _require_box_claim(claims: dict, box_id: UUID) -> None:
    if claims.get("box_id") != str(box_id):
        raise InvalidWorkOrderToken("The work order token is for another box")


def _require_file_claim(claims: dict, file_id: UUID) -> None:
    if claims.get("file_id") != str(file_id):
        raise InvalidWorkOrderToken("The work order token is for another file")


def _box(file_upload_box_id: UUID, lock: bool = False) -> UploadBox:
    query = select(UploadBox).where(UploadBox.file_upload_box_id == file_upload_box_id)
    # New uploads of one box take turns, so that its open-upload count and size limit
    # hold; and none starts while the box changes state.
    box = db.session.scalars(query.with_for_update() if lock else query).first()
    if box is None:
        raise BoxNotFound(f"File upload box {file_upload_box_id} not found")
    return box


def _upload(box_id: UUID, file_id: UUID, lock: bool = True) -> FileUpload:
    upload = db.session.get(FileUpload, file_id, with_for_update=lock)
    if upload is None or upload.box_id != box_id:
        raise UploadNotFound(f"No file upload {file_id} in box {box_id}")
    return upload


def list_uploads(claims: dict, box_id: UUID, skip: int, limit: int, sort: list[str]):
    _require_box_claim(claims, box_id)
    return box_uploads(_box(box_id), skip, limit, sort)


def box_uploads(
    box: UploadBox, skip: int, limit: int, sort: list[str] | None = None
) -> tuple[list[FileUpload], int]:
    """A page of the box's uploads in `sort` order (GHGA's field names, `-` descending);
    oldest first without one (the steward pages)."""
    query = select(FileUpload).where(FileUpload.box_id == box.file_upload_box_id)
    order = [_order(spec) for spec in sort] if sort else [FileUpload.created_at]
    ordered = query.order_by(*order, FileUpload.id)
    return fetch_page(db.session, ordered, skip, limit)


def _order(spec: str) -> ColumnElement:
    name = spec.removeprefix("-")
    if name == "state_updated":  # GHGA's field: when the upload last changed state
        column = func.coalesce(FileUpload.finished_at, FileUpload.closed_at, FileUpload.created_at)
    else:
        column = getattr(FileUpload, name)
    return column.desc() if spec.startswith("-") else column.asc()


def create_upload(
    claims: dict, box_id: UUID, creation: UploadCreation, max_part: int, max_open: int
):
    """A new upload for the alias, or the same request's upload when it is repeated.

    A client that lost the answer to its first request retries it: an upload for the
    alias that is still `init`, with the same sizes and part size and no part
    received yet, is that request's upload and is returned again. With `overwrite`
    such an upload is replaced instead, as any unverified one is.
    """
    _require_box_claim(claims, box_id)
    if claims.get("alias") != creation.alias:
        raise InvalidWorkOrderToken("The work order token is for another alias")
    box = _box(box_id, lock=True)
    if box.state != "open":
        raise BoxNotOpen(f"Upload box {box.id} is {box.state}; uploads need an open box")
    if creation.part_size > max_part:
        raise InvalidPartSize(f"Parts may be at most {max_part} bytes")
    existing = _live_upload(box_id, creation.alias)
    if existing is not None:
        if not creation.overwrite and _is_repeat_of(existing, creation):
            return existing
        _make_room(existing, creation)
    _refuse_beyond_box_limits(box, creation, max_open)
    store = object_store()
    file_id = uuid4()
    upload = FileUpload(
        id=file_id,
        box_id=box_id,
        alias=creation.alias,
        state=UploadState.INIT.value,
        decrypted_size=creation.decrypted_size,
        encrypted_size=creation.encrypted_size,
        part_size=creation.part_size,
        storage_alias=store.alias,
        storage_upload_id=store.begin_upload(str(file_id)),
    )
    try:
        with db.session.begin_nested():
            db.session.add(upload)
    except IntegrityError:  # a concurrent creation for the same alias won
        raise UploadAlreadyExists(f"{creation.alias} is already being uploaded") from None
    return upload


def _live_upload(box_id: UUID, alias: str) -> FileUpload | None:
    return db.session.scalars(
        select(FileUpload)
        .where(
            FileUpload.box_id == box_id,
            FileUpload.alias == alias,
            FileUpload.state.in_([state.value for state in LIVE_STATES]),
        )
        .with_for_update()
    ).first()


def _refuse_beyond_box_limits(box: UploadBox, creation: UploadCreation, max_open: int) -> None:
    """GHGA's upload controller 15 rules, in its order: at most `max_open` uploads open
    at once (429), and the decrypted sizes of the box's uploads (open, being verified
    or stored) plus this one within the box's `max_size` (507)."""
    open_count, reserved = _open_count_and_reserved(box.file_upload_box_id)
    if open_count >= max_open:
        raise TooManyOpenUploads(
            f"Upload box {box.id} already has {open_count} open upload(s), the most allowed; "
            "close or cancel one first",
            data={"box_id": str(box.file_upload_box_id), "max_concurrent": max_open},
        )
    if box.max_size is not None and reserved + creation.decrypted_size > box.max_size:
        raise _box_full(
            f"{creation.alias} ({creation.decrypted_size} bytes) does not fit: the box holds "
            f"{reserved} of its {box.max_size} bytes",
            box.file_upload_box_id,
            box.max_size,
            reserved,
            creation.alias,
        )


def _box_full(
    message: str, box_id: UUID, max_size: int, reserved: int, alias: str
) -> BoxMaxSizeExceeded:
    """GHGA's 507: the data carries the box, its limit, what it holds and the file."""
    return BoxMaxSizeExceeded(
        message,
        data={
            "box_id": str(box_id),
            "max_size": max_size,
            "current_size": reserved,
            "file_alias": alias,
        },
    )


def _open_count_and_reserved(file_upload_box_id: UUID) -> tuple[int, int]:
    """How many uploads of the box are open, and the decrypted bytes of all live ones."""
    is_open = FileUpload.state == UploadState.INIT.value
    count, reserved = db.session.execute(
        select(
            func.count().filter(is_open),
            func.coalesce(func.sum(FileUpload.decrypted_size), 0),
        ).where(
            FileUpload.box_id == file_upload_box_id,
            FileUpload.state.in_([state.value for state in LIVE_STATES]),
        )
    ).one()
    return count, int(reserved)


def refuse_part_beyond_box_limit(file_id: UUID) -> None:
    """507 for a part of an upload whose box no longer has room for it: the box's
    `max_size` was lowered below what its uploads hold since this one started."""
    upload = db.session.get(FileUpload, file_id)
    if upload is None:
        return
    box = _box(upload.box_id)
    if box.max_size is None:
        return
    _, reserved = _open_count_and_reserved(upload.box_id)
    if reserved > box.max_size:
        raise _box_full(
            f"Upload box {box.id} now holds {reserved} of its {box.max_size} bytes; "
            f"{upload.alias} does not fit any more",
            upload.box_id,
            box.max_size,
            reserved,
            upload.alias,
        )


def _is_repeat_of(existing: FileUpload, creation: UploadCreation) -> bool:
    same_request = (
        existing.state == UploadState.INIT
        and existing.decrypted_size == creation.decrypted_size
        and existing.encrypted_size == creation.encrypted_size
        and existing.part_size == creation.part_size
    )
    return same_request and not object_store().uploaded_parts(
        str(existing.id), existing.storage_upload_id
    )


def _make_room(existing: FileUpload, creation: UploadCreation) -> None:
    replaceable = existing.state in (UploadState.INIT, UploadState.INBOX)
    if not (creation.overwrite and replaceable):
        raise UploadAlreadyExists(
            f"{creation.alias} already has an upload in state {existing.state}",
            data={"file_id": str(existing.id), "state": existing.state},
        )
    _cancel(existing)
    db.session.flush()


def _cancel(upload: FileUpload) -> None:
    object_store().discard_upload(str(upload.id), upload.storage_upload_id)
    upload.state = UploadState.CANCELLED.value
    upload.finished_at = utc_now()


def part_upload_url(claims: dict, box_id: UUID, file_id: UUID, part_number: int) -> str:
    _require_box_claim(claims, box_id)
    _require_file_claim(claims, file_id)
    upload = _upload(box_id, file_id, lock=False)
    if upload.state != UploadState.INIT:
        raise UploadStateError(f"Upload {file_id} is {upload.state}; parts go to open uploads")
    refuse_part_beyond_box_limit(file_id)
    parts_needed = max(1, -(-upload.encrypted_size // upload.part_size))
    if part_number > parts_needed:
        raise InvalidPartSize(f"Upload {file_id} has {parts_needed} part(s)")
    # Every part but the last is at most part_size; the last is at most what remains.
    max_bytes = min(upload.part_size, upload.encrypted_size - (part_number - 1) * upload.part_size)
    return object_store().part_upload_url(
        str(file_id), upload.storage_upload_id, part_number, max(max_bytes, 0)
    )


def close_upload(claims: dict, box_id: UUID, file_id: UUID, closure: UploadClosure) -> bool:
    """Check the parts against the client's checksums; True when verification is due."""
    _require_box_claim(claims, box_id)
    _require_file_claim(claims, file_id)
    upload = _upload(box_id, file_id)
    already_closed = upload.state in (UploadState.INBOX, UploadState.COMPLETED)
    if already_closed and upload.decrypted_sha256 == closure.decrypted_sha256.lower():
        return False  # the same close again: nothing more to do
    if upload.state != UploadState.INIT:
        raise UploadStateError(f"Upload {file_id} is {upload.state} and cannot be closed")
    parts = object_store().uploaded_parts(str(file_id), upload.storage_upload_id)
    problem = _checksum_problem(parts, closure, upload.encrypted_size, upload.part_size)
    if problem:
        log.warning("upload %s: %s", file_id, problem)
        raise ChecksumMismatch(f"The uploaded parts do not match: {problem}")
    upload.state = UploadState.INBOX.value
    upload.decrypted_sha256 = closure.decrypted_sha256.lower()
    upload.encrypted_parts_md5 = [md5.lower() for md5 in closure.encrypted_parts_md5]
    upload.encrypted_parts_sha256 = [sha.lower() for sha in closure.encrypted_parts_sha256]
    upload.closed_at = utc_now()
    db.session.flush()
    return True


def _checksum_problem(
    parts, closure: UploadClosure, encrypted_size: int, part_size: int
) -> str | None:
    numbers = [part.number for part in parts]
    if numbers != list(range(1, len(closure.encrypted_parts_md5) + 1)):
        return f"received parts {numbers}, expected {len(closure.encrypted_parts_md5)}"
    # Backends whose part URLs cannot bound a body (S3) meet an oversized part here.
    if any(part.size > part_size for part in parts):
        return f"a part is larger than the part size {part_size}"
    if [p.md5 for p in parts] != [m.lower() for m in closure.encrypted_parts_md5]:
        return "part MD5 checksums differ"
    known = [
        (p.sha256, s.lower()) for p, s in zip(parts, closure.encrypted_parts_sha256, strict=False)
    ]
    if len(closure.encrypted_parts_sha256) != len(parts) or any(
        ours is not None and ours != theirs for ours, theirs in known
    ):
        return "part SHA-256 checksums differ"
    if sum(part.size for part in parts) != encrypted_size:
        return f"received {sum(p.size for p in parts)} bytes, announced {encrypted_size}"
    joined = b"".join(bytes.fromhex(part.md5) for part in parts)
    etag = f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(parts)}"
    if etag != closure.encrypted_md5.lower():
        return "the object MD5 differs"
    return None


def delete_upload(claims: dict, box_id: UUID, file_id: UUID) -> None:
    """Cancel an open upload or remove a completed one; failed ones stay as they are."""
    _require_box_claim(claims, box_id)
    _require_file_claim(claims, file_id)
    upload = _upload(box_id, file_id)
    if upload.state == UploadState.COMPLETED:
        stored = db.session.get(StoredFile, file_id)
        if stored is not None:
            object_store().delete_object(stored.object_key)
            db.session.delete(stored)
    if upload.state in (UploadState.INIT, UploadState.INBOX, UploadState.COMPLETED):
        _cancel(upload)
    db.session.flush()


class VerificationFailed(ValueError):
    pass


def verify_upload(file_id: UUID) -> str:
    """Decrypt the closed upload, check it, and keep its data segments and key.

    Runs on a worker after a successful close; the caller commits with
    `app.unit_of_work.commit`. Idempotent: an upload that is no longer in the inbox is
    left alone, and one whose outcome was never committed (the database went away
    first) is verified again from the staged upload, which is only discarded once the
    outcome is stored.
    """
    upload = db.session.get(FileUpload, file_id, with_for_update=True)
    if upload is None or upload.state != UploadState.INBOX:
        return "not_in_inbox"
    store, keys = object_store(), storage_keys()
    digest, size = hashlib.sha256(), 0
    try:
        with store.open_upload(str(file_id), upload.storage_upload_id) as raw:
            stream = _CountingReader(raw)
            key = crypt4gh_files.read_data_key(stream, keys.private)
            header_length = stream.count

            def content():
                nonlocal size
                for encrypted, plaintext in crypt4gh_files.decrypted_segments(stream, key):
                    digest.update(plaintext)
                    size += len(plaintext)
                    yield encrypted

            content_size = store.keep_upload(
                str(file_id), upload.storage_upload_id, str(file_id), header_length, content()
            )
        if size != upload.decrypted_size:
            raise VerificationFailed(f"decrypted size {size} != announced {upload.decrypted_size}")
        if digest.hexdigest() != upload.decrypted_sha256:
            raise VerificationFailed("the decrypted content does not match decrypted_sha256")
    except (crypt4gh_files.InvalidCrypt4GH, VerificationFailed) as error:
        store.delete_object(str(file_id))
        upload.state = UploadState.FAILED.value
        upload.failure_reason = str(error)
        log.warning("upload %s failed verification: %s", file_id, error)
    else:
        db.session.add(
            _stored_file(file_id, store.alias, content_size, size, upload.decrypted_sha256, key)
        )
        upload.state = UploadState.COMPLETED.value
    upload.finished_at = utc_now()
    # Discarded before the commit, a lost commit would leave the upload in the inbox
    # with nothing left to verify: the next attempt would fail a file that was stored.
    after_commit(store.discard_upload, str(file_id), upload.storage_upload_id)
    db.session.flush()
    return upload.state


class _CountingReader:
    """A stream that counts the bytes read from it (the header's length)."""

    def __init__(self, stream):
        self._stream, self.count = stream, 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        return data

    def readinto(self, buffer) -> int:
        count = self._stream.readinto(buffer)
        self.count += count
        return count


def upload_state_counts(file_upload_box_ids: list[UUID]) -> dict[UUID, dict[str, int]]:
    """For each file upload box: how many of its uploads are in each state."""
    counts: dict[UUID, dict[str, int]] = {}
    if not file_upload_box_ids:
        return counts
    rows = db.session.execute(
        select(FileUpload.box_id, FileUpload.state, func.count())
        .where(FileUpload.box_id.in_(file_upload_box_ids))
        .group_by(FileUpload.box_id, FileUpload.state)
    )
    for box_id, state, count in rows:
        counts.setdefault(box_id, {})[state] = count
    return counts
