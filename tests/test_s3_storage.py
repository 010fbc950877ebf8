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
