"""The same journeys with the S3 backend (moto on 127.0.0.1) behind the service."""

import os

import pytest
from sqlalchemy import select

from app import create_app
from app.transfer.models import FileUpload, StoredFile
from tests.conftest import make_settings, s3_settings
from tests.support.connector import Connector, ensure_connector
from tests.support.factories import create_upload_box, grant
from tests.support.live_service import service_stack
from tests.support.users import Researcher
from tests.support.waiting import wait_for
from tests.test_connector import (
    SERVICE_SETTINGS,
    MiB,
    create_package,
    random_file,
    seed_download,
    upload_states,
)

pytestmark = [pytest.mark.worker, pytest.mark.connector]


@pytest.fixture(scope="module")
def s3_app(instance_path, s3_endpoint):
    return create_app(make_settings(instance_path, **s3_settings(s3_endpoint)))


@pytest.fixture(scope="module")
def service(app, s3_app, instance_path, s3_endpoint, tmp_path_factory):
    logs = tmp_path_factory.mktemp("live-s3-logs")
    settings = SERVICE_SETTINGS | s3_settings(s3_endpoint)
    with service_stack(app.extensions["celery"], instance_path, logs, **settings) as proxy:
        yield proxy


@pytest.fixture
def connector(service, tmp_path):
    tool = Connector(ensure_connector(), tmp_path, f"http://127.0.0.1:{service.port}/.well-known")
    tool.make_keys()
    return tool


def test_download_over_s3_gives_back_identical_files(db, s3_app, service, connector, tmp_path):
    researcher = Researcher(s3_app)
    big, small = os.urandom(3 * MiB + 5), b"small over s3\n"
    with s3_app.app_context():
        seed_download(db, researcher, {"GHGAFDL10000": big, "GHGAFDL10001": small})
    token = create_package(service, researcher, connector, type="download", dataset_id="DL1")

    downloaded = connector.download(token, tmp_path / "out", part_size=MiB)
    assert downloaded.returncode == 0, downloaded.stdout + downloaded.stderr
    connector.decrypt(tmp_path / "out", tmp_path / "plain")

    assert (tmp_path / "plain" / "GHGAFDL10000.bam").read_bytes() == big
    assert (tmp_path / "plain" / "GHGAFDL10001.fastq.gz").read_bytes() == small
    urls = [path for method, path, _ in service.seen if method == "GET"]
    assert not any(path.startswith("/storage/") for path in urls)  # bytes came from S3


def test_upload_over_s3_is_verified(db, s3_app, service, connector, tmp_path):
    researcher = Researcher(s3_app)
    box = create_upload_box()
    grant(researcher.id, box=box.id)
    token = create_package(
        service, researcher, connector, type="upload", research_data_upload_box_id=str(box.id)
    )
    big = random_file(tmp_path / "reads.bam", 11 * MiB + 3)
    tsv = tmp_path / "batch.tsv"
    tsv.write_text(f"{big}\treads.bam\n")

    uploaded = connector.batch_upload(token, tsv)

    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    wait_for(lambda: upload_states(db, box) == {"reads.bam": ["completed"]})
    db.session.rollback()
    stored = db.session.get(StoredFile, db.session.scalars(select(FileUpload.id)).one())
    store = s3_app.extensions["object_store"]
    head = store.client.head_object(Bucket=store.bucket, Key=f"objects/{stored.object_key}")
    assert head["ContentLength"] == stored.content_size
    assert stored.decrypted_size == big.stat().st_size
