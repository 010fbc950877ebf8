"""End to end with the unmodified ghga-connector 4.0.1 against the live service.

The service runs under `invoke serve` (granian) with PostgreSQL, Redis and two Celery worker
processes; a small proxy in front of it can corrupt what crosses the network.
"""

import json
import os
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import requests
from sqlalchemy import select

from app.access.models import AccessGrant
from app.transfer.models import FileUpload
from app.transfer.services import import_plaintext
from tests.support.connector import Connector, ensure_connector
from tests.support.factories import (
    ApplicationKeyFactory,
    accession_map_event,
    create_dataset,
    create_upload_box,
    event,
    grant,
    verified_iva,
)
from tests.support.live_service import service_stack
from tests.support.people import make_person
from tests.support.users import Researcher
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.connector]

MiB = 1024 * 1024
SERVICE_SETTINGS = {"event_retry_backoff_seconds": 0.05, "event_requeue_after_seconds": 0.5}


@pytest.fixture(scope="module")
def service(app, instance_path, tmp_path_factory):
    logs = tmp_path_factory.mktemp("live-logs")
    with service_stack(app.extensions["celery"], instance_path, logs, **SERVICE_SETTINGS) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def connector_bin():
    return ensure_connector()


@pytest.fixture
def connector(service, connector_bin, tmp_path):
    tool = Connector(connector_bin, tmp_path, f"http://127.0.0.1:{service.port}/.well-known")
    tool.make_keys()
    service.hooks.clear()
    service.response_hooks.clear()
    return tool


def api(service) -> str:
    return f"http://127.0.0.1:{service.port}"


def random_file(path, size: int):
    path.write_bytes(os.urandom(size))
    return path


def create_package(service, researcher, connector, **body) -> str:
    """A work package through the live API; returns what the user pastes: `id:token`."""
    body = {"user_public_crypt4gh_key": connector.public_key.read_text()} | body
    response = requests.post(
        f"{api(service)}/work-packages", json=body, headers=researcher.headers(), timeout=30
    )
    assert response.status_code == 201, response.text
    return f"{response.json()['id']}:{response.json()['token']}"


def seed_download(db, researcher, files: dict[str, bytes], iva_id=None) -> None:
    """A dataset whose files are stored (encrypted by the service) and granted."""
    from app.catalog import services as catalog

    create_dataset("DL1", files=len(files), mapped=False)
    for accession, content in files.items():
        file_id = uuid4()
        catalog.put_accession_map(accession, file_id)
        import_plaintext(file_id, iter([content]))
    db.session.commit()
    grant(researcher.id, dataset="DL1", iva_id=iva_id)


def test_download_gives_back_identical_files(db, app, service, connector, tmp_path):
    researcher = Researcher(app)
    big, small = os.urandom(3 * MiB + 12345), b"a small file\n"
    seed_download(db, researcher, {"GHGAFDL10000": big, "GHGAFDL10001": small})
    token = create_package(service, researcher, connector, type="download", dataset_id="DL1")

    downloaded = connector.download(token, tmp_path / "out", part_size=MiB)
    assert downloaded.returncode == 0, downloaded.stdout + downloaded.stderr
    decrypted = connector.decrypt(tmp_path / "out", tmp_path / "plain")
    assert decrypted.returncode == 0, decrypted.stdout + decrypted.stderr

    assert (tmp_path / "plain" / "GHGAFDL10000.bam").read_bytes() == big
    assert (tmp_path / "plain" / "GHGAFDL10001.fastq.gz").read_bytes() == small
    parts = [path for method, path, _ in service.seen if method == "GET" and "/storage/" in path]
    assert len(parts) >= 4  # the big file came in several ranged parts


def upload_states(db, box) -> dict[str, list[str]]:
    db.session.rollback()
    states: dict[str, list[str]] = {}
    for upload in db.session.scalars(
        select(FileUpload)
        .where(FileUpload.box_id == box.file_upload_box_id)
        .order_by(FileUpload.created_at)
    ):
        states.setdefault(upload.alias, []).append(upload.state)
    return states


@pytest.fixture
def upload_setup(db, app, service, connector, tmp_path):
    researcher = Researcher(app)
    box = create_upload_box()
    grant(researcher.id, box=box.id)
    token = create_package(
        service, researcher, connector, type="upload", research_data_upload_box_id=str(box.id)
    )
    big = random_file(tmp_path / "reads.bam", 12 * MiB + 777)
    small = random_file(tmp_path / "notes.txt", 999)
    tsv = tmp_path / "batch.tsv"
    tsv.write_text(f"{big}\treads.bam\n{small}\tnotes.txt\n")
    return researcher, box, token, tsv, {"reads.bam": big, "notes.txt": small}


def test_uploaded_files_are_verified_published_and_downloadable(
    db, app, service, connector, upload_setup, tmp_path
):
    researcher, box, token, tsv, files = upload_setup

    uploaded = connector.batch_upload(token, tsv)

    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    wait_for(
        lambda: upload_states(db, box) == {"reads.bam": ["completed"], "notes.txt": ["completed"]}
    )
    file_ids = dict(db.session.execute(
        select(FileUpload.alias, FileUpload.id).where(FileUpload.box_id == box.file_upload_box_id)
    ).all())  # fmt: skip
    publisher = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}
    dataset = {
        "accession": "UP1", "title": "Uploaded", "stage": "download", "description": None,
        "dac_alias": "DAC", "dac_email": "dac@example.org",
        "files": [
            {"accession": "GHGAFUP1BAM", "file_extension": ".bam", "description": None},
            {"accession": "GHGAFUP1TXT", "file_extension": ".txt", "description": None},
        ],
    }  # fmt: skip
    events = [
        accession_map_event("GHGAFUP1BAM", file_ids["reads.bam"]),
        accession_map_event("GHGAFUP1TXT", file_ids["notes.txt"]),
        event("metadata-datasets", "dataset_upserted", "UP1", dataset),
    ]
    published = requests.post(f"{api(service)}/events", json=events, headers=publisher, timeout=30)
    assert published.status_code == 202
    wait_for(lambda: _dataset_exists(db, "UP1"))
    grant(researcher.id, dataset="UP1")
    download_token = create_package(
        service, researcher, connector, type="download", dataset_id="UP1"
    )

    downloaded = connector.download(download_token, tmp_path / "out", part_size=4 * MiB)
    assert downloaded.returncode == 0, downloaded.stdout + downloaded.stderr
    connector.decrypt(tmp_path / "out", tmp_path / "plain")

    assert (tmp_path / "plain" / "GHGAFUP1BAM.bam").read_bytes() == files["reads.bam"].read_bytes()
    assert (tmp_path / "plain" / "GHGAFUP1TXT.txt").read_bytes() == files["notes.txt"].read_bytes()


def _dataset_exists(db, accession: str) -> bool:
    from app.catalog.models import Dataset

    db.session.rollback()
    return db.session.get(Dataset, accession) is not None


def test_a_corrupted_part_is_refused_at_close_and_the_connector_retries(
    db, service, connector, upload_setup
):
    _, box, token, tsv, _ = upload_setup
    corrupted = []

    def flip_a_byte_once(method, path, body):
        if method == "PUT" and "/parts/" in path and not corrupted:
            corrupted.append(path)
            return bytes([body[0] ^ 0xFF]) + body[1:]
        return body

    service.hooks.append(flip_a_byte_once)

    uploaded = connector.batch_upload(token, tsv)

    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    assert corrupted
    states = wait_for(
        lambda: (
            (s := upload_states(db, box))
            and all(history[-1] == "completed" for history in s.values())
            and len(s) == 2
            and s
        )
    )
    retried = [alias for alias, history in states.items() if history[:-1] == ["cancelled"]]
    assert len(retried) == 1, states


def test_a_lost_answer_to_upload_creation_is_retried_and_the_file_arrives(
    db, service, connector, upload_setup
):
    _, box, token, tsv, _ = upload_setup
    dropped = []

    def drop_the_first_creation_answer(method, path, status):
        if method == "POST" and path.endswith("/uploads") and status == 201 and not dropped:
            dropped.append(path)
            return True
        return False

    service.response_hooks.append(drop_the_first_creation_answer)

    uploaded = connector.batch_upload(token, tsv)

    output = uploaded.stdout + uploaded.stderr
    assert dropped
    assert uploaded.returncode == 0, output
    assert "did not upload" not in output, output
    assert "Successfully uploaded reads.bam" in output, output
    states = wait_for(
        lambda: (
            (s := upload_states(db, box))
            and len(s) == 2
            and all(h[-1] == "completed" for h in s.values())
            and s
        )
    )
    # The retried creation got the upload the lost answer announced: no second one.
    assert states == {"reads.bam": ["completed"], "notes.txt": ["completed"]}
    creations = [
        status for method, path, status in service.seen if method == "POST" and path == dropped[0]
    ]
    assert 409 not in creations


def test_a_box_that_fills_up_is_reported_clearly_by_the_connector(
    db, app, service, connector, tmp_path
):
    """ghga-event-schemas 13 `max_size`: the connector gets GHGA's 507
    `boxMaxSizeExceeded` and names the file that does not fit."""
    researcher = Researcher(app)
    box = create_upload_box(max_size=4 * MiB)
    grant(researcher.id, box=box.id)
    token = create_package(
        service, researcher, connector, type="upload", research_data_upload_box_id=str(box.id)
    )
    small = random_file(tmp_path / "notes.txt", 999)
    big = random_file(tmp_path / "reads.bam", 4 * MiB)  # 999 + 4 MiB > 4 MiB
    tsv = tmp_path / "batch.tsv"
    tsv.write_text(f"{small}\tnotes.txt\n{big}\treads.bam\n")

    uploaded = connector.batch_upload(token, tsv)

    # 4.0.1 ends with status 0 after a refused file; it names it and why.
    output = " ".join((uploaded.stdout + uploaded.stderr).split())
    assert "cannot add file 'reads.bam'" in output.lower(), output
    assert "exceed the box's maximum total size limit" in output, output
    assert "1 file(s) were not uploaded: reads.bam" in output, output
    refused = [s for m, p, s in service.seen if m == "POST" and p.endswith("/uploads")]
    assert refused[-1] == 507
    assert "reads.bam" not in upload_states(db, box)
    wait_for(lambda: upload_states(db, box) == {"notes.txt": ["completed"]})


def test_a_wrong_decrypted_checksum_ends_in_state_failed(db, service, connector, upload_setup):
    _, box, token, tsv, _ = upload_setup

    def lie_about_the_plaintext(method, path, body):
        if method == "PATCH" and "/upload/boxes/" in path:
            closure = json.loads(body)
            closure["decrypted_sha256"] = "0" * 64
            return json.dumps(closure).encode()
        return body

    service.hooks.append(lie_about_the_plaintext)

    connector.batch_upload(token, tsv)

    states = wait_for(
        lambda: (
            (s := upload_states(db, box))
            and len(s) == 2
            and all(h[-1] == "failed" for h in s.values())
            and s
        )
    )
    assert states == {"reads.bam": ["failed"], "notes.txt": ["failed"]}
    db.session.rollback()
    reasons = {u.failure_reason for u in db.session.scalars(select(FileUpload))}
    assert reasons == {"the decrypted content does not match decrypted_sha256"}


def test_a_grant_revoked_between_two_files_fails_the_second(db, app, service, connector, tmp_path):
    researcher = Researcher(app)
    seed_download(db, researcher, {"GHGAFDL10000": os.urandom(2 * MiB), "GHGAFDL10001": b"x" * 100})
    token = create_package(service, researcher, connector, type="download", dataset_id="DL1")
    revoked = []

    def revoke_when_the_first_file_flows(method, path, body):
        if method == "GET" and "/storage/" in path and not revoked:
            revoked.append(path)
            _revoke_all_grants(app)
        return body

    service.hooks.append(revoke_when_the_first_file_flows)

    result = connector.download(token, tmp_path / "out", part_size=MiB)

    output = result.stdout + result.stderr
    assert (tmp_path / "out" / "GHGAFDL10000.bam.c4gh").exists(), output
    assert not (tmp_path / "out" / "GHGAFDL10001.fastq.gz.c4gh").exists(), output
    refused = [
        status
        for method, path, status in service.seen
        if method == "POST" and "/files/GHGAFDL10001/work-order-tokens" in path
    ]
    assert refused[-1] == 403


def test_unverifying_the_address_during_a_download_stops_the_next_file(
    db, app, service, connector, tmp_path
):
    researcher = Researcher(app)
    make_person(user_id=researcher.id, email=researcher.email)
    iva = verified_iva(researcher.id)
    files = {"GHGAFDL10000": os.urandom(2 * MiB), "GHGAFDL10001": b"x" * 100}
    seed_download(db, researcher, files, iva_id=iva.id)
    token = create_package(service, researcher, connector, type="download", dataset_id="DL1")
    unverified = []
    steward = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}

    def unverify_when_the_first_file_flows(method, path, body):
        if method == "GET" and "/storage/" in path and not unverified:
            unverified.append(path)
            answer = requests.post(
                f"{api(service)}/rpc/ivas/{iva.id}/unverify", headers=steward, timeout=30
            )
            assert answer.status_code == 204
        return body

    service.hooks.append(unverify_when_the_first_file_flows)

    result = connector.download(token, tmp_path / "out", part_size=MiB)

    output = result.stdout + result.stderr
    assert unverified, output
    assert (tmp_path / "out" / "GHGAFDL10000.bam.c4gh").exists(), output
    assert not (tmp_path / "out" / "GHGAFDL10001.fastq.gz.c4gh").exists(), output
    refused = [
        status
        for method, path, status in service.seen
        if method == "POST" and "/files/GHGAFDL10001/work-order-tokens" in path
    ]
    assert refused[-1] == 403


def _revoke_all_grants(app):
    from app.extensions import db

    with app.app_context():
        for row in db.session.scalars(select(AccessGrant)):
            row.revoked_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
