"""The S3 backend against a local S3 endpoint (moto in server mode)."""

import hashlib
import os

import pytest
import requests

from app import create_app
from app.storage.s3 import S3Store
from tests.conftest import make_settings, s3_settings

MiB = 1024 * 1024


@pytest.fixture
def store(s3_endpoint, instance_path) -> S3Store:
    app = create_app(make_settings(instance_path, **s3_settings(s3_endpoint)))
    store = app.extensions["object_store"]
    assert isinstance(store, S3Store)
    return store


def test_presigned_part_uploads_are_listed_and_read_back_in_order(store):
    parts = [os.urandom(5 * MiB), os.urandom(1234)]
    upload_id = store.begin_upload("u1")

    for number, content in enumerate(parts, 1):
        url = store.part_upload_url("u1", upload_id, number, len(content))
        assert requests.put(url, data=content, timeout=30).status_code == 200

    listed = store.uploaded_parts("u1", upload_id)
    assert [(p.number, p.size, p.md5) for p in listed] == [
        (n, len(c), hashlib.md5(c, usedforsecurity=False).hexdigest())
        for n, c in enumerate(parts, 1)
    ]
    with store.open_upload("u1", upload_id) as stream:
        assert stream.read() == b"".join(parts)
    store.discard_upload("u1", upload_id)


def test_objects_are_served_with_ranges_through_presigned_urls(store):
    content = os.urandom(20 * MiB + 7)

    size = store.write_object("o1", iter([content[: 9 * MiB], content[9 * MiB :]]))
    url = store.download_url("o1")
    ranged = requests.get(url, headers={"Range": f"bytes={MiB}-{2 * MiB - 1}"}, timeout=30)

    assert size == len(content)
    assert ranged.status_code == 206
    assert ranged.content == content[MiB : 2 * MiB]
    store.delete_object("o1")
    assert requests.get(url, timeout=30).status_code == 404


def test_a_verification_whose_commit_was_lost_completes_when_run_again(
    db, s3_endpoint, instance_path
):
    """The database went away after the object was written but before the outcome was
    committed (what `invoke chaos` met): the staged upload must still be there for the
    next attempt, which stores the file rather than failing it."""
    from datetime import UTC, datetime
    from uuid import uuid4

    from nacl.public import PrivateKey

    from app.tasks.transfer import _verify
    from app.transfer import crypt4gh_files, services
    from app.transfer.models import FileUpload, StoredFile
    from tests.support.factories import create_upload_box

    s3_app = create_app(make_settings(instance_path, **s3_settings(s3_endpoint)))
    plaintext, data_key, file_id = os.urandom(70_000), os.urandom(32), uuid4()
    with s3_app.app_context():
        store, keys = s3_app.extensions["object_store"], s3_app.extensions["storage_keys"]
        sender = bytes(PrivateKey.generate())
        encrypted = crypt4gh_files.envelope(data_key, sender, keys.public) + b"".join(
            crypt4gh_files.encrypted_segments(iter([plaintext]), data_key)
        )
        store.begin_upload(str(file_id))  # the bucket, as a first upload makes it
        store.client.put_object(Bucket=store.bucket, Key=f"uploads/{file_id}", Body=encrypted)
        box = create_upload_box()
        db.session.add(FileUpload(
            id=file_id, box_id=box.file_upload_box_id, alias="lost.bin", state="inbox",
            decrypted_size=len(plaintext), encrypted_size=len(encrypted), part_size=8 * MiB,
            storage_alias="local", storage_upload_id="staged",
            decrypted_sha256=hashlib.sha256(plaintext).hexdigest(), closed_at=datetime.now(UTC),
        ))  # fmt: skip
        db.session.commit()

        assert services.verify_upload(file_id) == "completed"
        db.session.rollback()  # the commit that never came

        assert _verify(str(file_id)) == "completed"
        db.session.expire_all()
        assert db.session.get(FileUpload, file_id).state == "completed"
        stored = db.session.get(StoredFile, file_id)
        head = store.client.head_object(Bucket=store.bucket, Key=f"objects/{stored.object_key}")
        assert head["ContentLength"] == stored.content_size
        assert b"".join(store.read_object(stored.object_key)) != b""
        staged = store.client.list_objects_v2(Bucket=store.bucket, Prefix=f"uploads/{file_id}")
        assert staged["KeyCount"] == 0  # discarded once the outcome was stored
