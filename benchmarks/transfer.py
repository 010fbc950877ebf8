"""File transfer throughput, each against its floor measured in the same run."""

import hashlib
import os
import subprocess
import time
from uuid import uuid4

from nacl.public import PrivateKey

MiB = 1024 * 1024


def _random_chunks(size: int, chunk: int = 4 * MiB):
    block = os.urandom(chunk)
    sent = 0
    while sent < size:
        piece = block[: min(chunk, size - sent)]
        sent += len(piece)
        yield piece


def seed_stored_file(app, size: int):
    """Encrypt and store `size` random bytes; returns the stored file's record."""
    from app.extensions import db
    from app.transfer.services import import_plaintext

    with app.app_context():
        stored = import_plaintext(uuid4(), _random_chunks(size))
        db.session.commit()
        return stored


def download_figures(app, stored, workers: int, rounds: int = 3) -> tuple[float, float]:
    """Medians of (signed URL via `invoke serve`, nginx serving the same file) in MB/s.

    The same client (curl) fetches both, in alternating rounds, so that a burst
    of load elsewhere on the machine hits both alike. The API must be serving.
    """
    from benchmarks.static_server import nginx_serving

    with app.app_context():
        signed_url = app.extensions["object_store"].download_url(stored.object_key)
    path = app.extensions["object_store"].object_path(stored.object_key)
    signed, static = [], []
    with nginx_serving(path, workers) as static_url:
        for _ in range(rounds):
            signed.append(_fetched_mb_per_second(signed_url, stored))
            static.append(_fetched_mb_per_second(static_url, stored))
    return sorted(signed)[rounds // 2], sorted(static)[rounds // 2]


def _fetched_mb_per_second(url: str, stored) -> float:
    """curl as the client, so that the client is not what is measured."""
    answer = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", url],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout.split()  # fmt: skip
    status, received, seconds = int(answer[0]), int(answer[1]), float(answer[2])
    assert status == 200 and received == stored.content_size, answer
    return received / MiB / seconds


def verification_figures(app, size: int, rounds: int = 3) -> tuple[float, float]:
    """Medians of (bare crypt4gh decryption MB/s, upload verification MB/s)."""
    results = [_verification_round(app, size) for _ in range(rounds)]
    bare = sorted(r[0] for r in results)[rounds // 2]
    verified = sorted(r[1] for r in results)[rounds // 2]
    return bare, verified


def _verification_round(app, size: int) -> tuple[float, float]:
    """(bare crypt4gh decryption MB/s, upload verification MB/s) on the same upload."""
    from app.extensions import db
    from app.storage import object_store
    from app.transfer import crypt4gh_files
    from app.transfer.models import FileUpload
    from app.transfer.services import verify_upload

    with app.app_context():
        store, keys = object_store(), app.extensions["storage_keys"]
        upload_key = str(uuid4())
        upload_id = store.begin_upload(upload_key)
        data_key, digest = os.urandom(32), hashlib.sha256()
        header = crypt4gh_files.envelope(data_key, bytes(PrivateKey.generate()), keys.public)

        def plaintext():
            for chunk in _random_chunks(size):
                digest.update(chunk)
                yield chunk

        body = header + b"".join(crypt4gh_files.encrypted_segments(plaintext(), data_key))
        store.receive_part(upload_key, 1, _BytesStream(body))
        bare = _bare_decryption_mb_per_second(store, upload_key, upload_id, keys.private, size)
        db.session.add(
            FileUpload(
                id=upload_key, box_id=uuid4(), alias="bench", state="inbox",
                decrypted_size=size, encrypted_size=len(body), part_size=len(body),
                storage_alias=store.alias, storage_upload_id=upload_id,
                decrypted_sha256=digest.hexdigest(),
            )
        )  # fmt: skip
        db.session.commit()
        started = time.perf_counter()
        state = verify_upload(upload_key)
        db.session.commit()
        elapsed = time.perf_counter() - started
        assert state == "completed", state
        return bare, size / MiB / elapsed


def _bare_decryption_mb_per_second(store, upload_key, upload_id, private_key, size) -> float:
    from app.transfer import crypt4gh_files

    started = time.perf_counter()
    with store.open_upload(upload_key, upload_id) as stream:
        key = crypt4gh_files.read_data_key(stream, private_key)
        digest = hashlib.sha256()
        for _, plaintext in crypt4gh_files.decrypted_segments(stream, key):
            digest.update(plaintext)
    return size / MiB / (time.perf_counter() - started)


class _BytesStream:
    def __init__(self, data: bytes):
        self._data, self._position = data, 0

    def read(self, count: int) -> bytes:
        piece = self._data[self._position : self._position + count]
        self._position += len(piece)
        return piece
