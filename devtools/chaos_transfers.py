"""Uploads and downloads with the real, unmodified ghga-connector through the balancer,
for `invoke chaos`.

Each round makes a work package through the API (`POST /work-packages`, the person's
internal token, the connector's Crypt4GH key) and runs the connector on the `id:token`
line, as a person pastes it. A run that fails is tried again with a new package; the
failure is judged at the end (retryable only if a kill window overlaps it).
"""

import os
import random
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import SubprocessError
from uuid import uuid4

import requests

from devtools.chaos_load import Tally
from devtools.connector import Connector

MiB = 1024 * 1024
# Small parts, so the bigger file comes in three ranged parts; small files: 2 cores.
DOWNLOAD_PART_SIZE = MiB
DOWNLOAD_DATASET = "CHAOSDL"
STORAGE_ALIAS = "chaos-s3"
DOWNLOAD_FILES = {"GHGAFCHAOSDL0": ".bam", "GHGAFCHAOSDL1": ".fastq.gz"}
DOWNLOAD_SIZES = (2 * MiB + 12345, 40_000)
UPLOAD_SIZES = (64 * 1024, MiB)  # one new random file per round, within these bytes
ATTEMPTS_PER_ROUND = 4
PAUSE_BETWEEN_ROUNDS = 3.0
PAUSE_BEFORE_RETRY = 2.0
CONNECTOR_SECONDS = 180  # a run that hangs this long has failed


class RunFailed(Exception):
    """The connector (or the package it needs) did not get through."""


@dataclass
class Transfers:
    """Where the connector loops transfer, as whom, and what they tell."""

    base: str
    connector: Connector
    headers: Callable[[], dict]  # a fresh internal token of the person who transfers
    tally: Tally
    stopped: threading.Event


def seed_transfers(app, user_id) -> dict:
    """A download dataset whose files are stored (in S3), an upload box, both granted."""
    from app.access.schemas import GrantRequest
    from app.access.services import create_grant
    from app.catalog import services as catalog
    from app.catalog.schemas import DatasetPayload, UploadBoxPayload
    from app.extensions import db
    from app.transfer.services import import_plaintext

    files = {
        accession + extension: os.urandom(size)
        for (accession, extension), size in zip(DOWNLOAD_FILES.items(), DOWNLOAD_SIZES, strict=True)
    }
    with app.app_context():
        catalog.upsert_dataset(DatasetPayload.model_validate({
            "accession": DOWNLOAD_DATASET, "title": "Chaos downloads", "stage": "download",
            "dac_alias": "DAC", "dac_email": "dac@example.org",
            "files": [{"accession": a, "file_extension": e} for a, e in DOWNLOAD_FILES.items()],
        }))  # fmt: skip
        for accession, extension in DOWNLOAD_FILES.items():
            file_id = uuid4()
            catalog.put_accession_map(accession, file_id)
            import_plaintext(file_id, iter([files[accession + extension]]))
        box, _ = catalog.upsert_upload_box(UploadBoxPayload.model_validate({
            "id": str(uuid4()), "version": 0, "state": "open", "title": "Chaos uploads",
            "file_upload_box_id": str(uuid4()), "storage_alias": STORAGE_ALIAS,
        }))  # fmt: skip
        valid = {"valid_until": datetime.now(UTC) + timedelta(days=30)}
        create_grant(
            GrantRequest(user_id=user_id, dataset_id=DOWNLOAD_DATASET, **valid),
            granted_by="chaos",
        )
        create_grant(
            GrantRequest(user_id=user_id, research_data_upload_box_id=box.id, **valid),
            granted_by="chaos",
        )
        db.session.commit()
        return {"files": files, "box_id": str(box.id), "file_box_id": box.file_upload_box_id}


def download_client(transfers: Transfers, files: dict[str, bytes]) -> None:
    """Download the dataset, decrypt it, compare every file with what was stored."""
    rounds = 0
    while not transfers.stopped.is_set():
        rounds += 1
        for attempt in range(ATTEMPTS_PER_ROUND):
            if _download(transfers, files, f"download-{rounds}-{attempt}"):
                break
            if transfers.stopped.wait(PAUSE_BEFORE_RETRY):
                return
        transfers.stopped.wait(PAUSE_BETWEEN_ROUNDS)


def _download(transfers: Transfers, files: dict[str, bytes], name: str) -> bool:
    started, folder = time.monotonic(), transfers.connector.workdir / name
    try:
        line = _package(transfers, {"type": "download", "dataset_id": DOWNLOAD_DATASET})
        ran = transfers.connector.download(line, folder / "encrypted", DOWNLOAD_PART_SIZE)
        if ran.returncode != 0:
            raise RunFailed(f"download ended with {ran.returncode}: {_tail(ran)}")
        ran = transfers.connector.decrypt(folder / "encrypted", folder / "plain")
        if ran.returncode != 0:
            raise RunFailed(f"decrypt ended with {ran.returncode}: {_tail(ran)}")
    except (RunFailed, requests.RequestException, OSError, SubprocessError) as error:
        transfers.tally.failed("download", started, str(error))
        return False
    finally:
        plain = {path.name: path.read_bytes() for path in folder.glob("plain/*")}
        shutil.rmtree(folder, ignore_errors=True)
    if plain != files:
        # Corrupt bytes are a finding whatever was killed: never retried.
        transfers.tally.mismatches.append(f"{name}: {sorted(plain)} differ from the stored files")
    transfers.tally.count("downloads compared equal" if plain == files else "downloads differing")
    return True


def upload_client(transfers: Transfers, box_id: str, seed: int) -> None:
    """One new random file per round, under an alias never used before."""
    sizes = random.Random(seed)  # noqa: S311 - reproducible sizes, not a secret
    rounds = 0
    while not transfers.stopped.is_set():
        rounds += 1
        size = sizes.randint(*UPLOAD_SIZES)
        for attempt in range(ATTEMPTS_PER_ROUND):
            # A new alias on each attempt: a failed one may still hold its alias open.
            if _upload(transfers, box_id, f"chaos-{rounds}-{attempt}.bin", size):
                break
            if transfers.stopped.wait(PAUSE_BEFORE_RETRY):
                return
        transfers.stopped.wait(PAUSE_BETWEEN_ROUNDS)


def _upload(transfers: Transfers, box_id: str, alias: str, size: int) -> bool:
    started, workdir = time.monotonic(), transfers.connector.workdir
    source, tsv = workdir / alias, workdir / f"{alias}.tsv"
    source.write_bytes(os.urandom(size))
    tsv.write_text(f"{source}\t{alias}\n")
    try:
        body = {"type": "upload", "research_data_upload_box_id": box_id}
        ran = transfers.connector.batch_upload(_package(transfers, body), tsv)
        # 4.0.1 ends with 0 after a refused file too; it names what it did upload.
        said = " ".join((ran.stdout + ran.stderr).split())
        if ran.returncode != 0 or f"Successfully uploaded {alias}" not in said:
            raise RunFailed(f"batch-upload ended with {ran.returncode}: {said[-300:]}")
    except (RunFailed, requests.RequestException, OSError, SubprocessError) as error:
        transfers.tally.failed("upload", started, f"{alias}: {error}")
        return False
    finally:
        source.unlink(missing_ok=True)
        tsv.unlink(missing_ok=True)
    with transfers.tally.lock:
        transfers.tally.accepted_uploads.append((alias, size))
    return True


def _package(transfers: Transfers, body: dict) -> str:
    """A work package through the balancer; what the person pastes: `id:token`."""
    body = {"user_public_crypt4gh_key": transfers.connector.public_key.read_text()} | body
    at = time.monotonic()
    try:
        made = requests.post(
            f"{transfers.base}/work-packages", json=body, headers=transfers.headers(), timeout=30
        )
    except requests.RequestException as error:
        transfers.tally.record("package", at, type(error).__name__)
        raise
    transfers.tally.record("package", at, made.status_code)
    if made.status_code != 201:
        raise RunFailed(f"POST /work-packages answered {made.status_code}")
    return f"{made.json()['id']}:{made.json()['token']}"


def _tail(ran) -> str:
    return " ".join((ran.stdout + ran.stderr).split())[-300:]


def connector_in(folder: Path, base: str) -> Connector:
    """The connector with a key pair of its own, talking to the balancer."""
    from devtools.connector import ensure_connector

    folder.mkdir()
    connector = Connector(ensure_connector(), folder, f"{base}/.well-known", CONNECTOR_SECONDS)
    connector.make_keys()
    return connector
