"""Faults an operator will meet: the database dropping connections, Redis going away."""

import shutil
import subprocess
import time

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import create_engine, text

from app import create_app
from tests.conftest import TEST_DATABASE_URL, make_settings
from tests.support.factories import ApplicationKeyFactory, dataset_event
from tests.support.live_service import free_port
from tests.support.waiting import wait_for


def _terminate_other_connections():
    url = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg2://", 1)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    return killed


def test_dropped_database_connections_answer_503_then_recover(client, db, steward_key):
    assert client.get("/datasets", headers=steward_key).status_code == 200

    assert _terminate_other_connections() >= 1
    during = client.get("/datasets", headers=steward_key)
    after = client.get("/datasets", headers=steward_key)

    assert during.status_code == 503
    assert during.json == {
        "detail": "The database is unavailable; retry later",
        "code": "database_unavailable",
    }
    assert after.status_code == 200


@pytest.fixture
def own_redis():
    """A Redis server of this test's own, so stopping it disturbs nobody else."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is needed for this test (apt-get install redis-server)")
    port = free_port()
    command = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]

    def start():
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout:
                return process
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    server = {"process": start()}

    def stop():
        server["process"].terminate()
        server["process"].wait(timeout=10)

    def restart():
        server["process"] = start()

    yield f"redis://127.0.0.1:{port}/0", stop, restart
    if server["process"].poll() is None:
        stop()


def test_redis_down_tokens_still_issued_and_events_wait(db, instance_path, own_redis, researcher):
    from app.tasks.feeds import requeue_pending

    redis_url, stop, restart = own_redis
    app = create_app(
        make_settings(
            instance_path,
            celery_broker_url=redis_url,
            celery_always_eager=False,
            event_requeue_after_seconds=0.1,
        )
    )
    client = app.test_client()
    publisher = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}
    from tests.support.factories import create_dataset, grant

    create_dataset("DS1", files=1)
    grant(researcher.id, dataset="DS1")
    stop()

    created = client.post(
        "/work-packages",
        json={"type": "download", "dataset_id": "DS1",
              "user_public_crypt4gh_key": researcher.public_key},
        headers=researcher.headers(),
    )  # fmt: skip
    wpat = {"Authorization": f"Bearer {researcher.open_sealed(created.json['token'])}"}
    token = client.post(
        f"/work-packages/{created.json['id']}/files/GHGAFDS10000/work-order-tokens", headers=wpat
    )
    published = client.post(
        "/events", json=dataset_event("DS2", event_id="while-down"), headers=publisher
    )

    assert created.status_code == 201
    assert token.status_code == 201
    assert published.status_code == 202
    status = client.get("/events/while-down", headers=steward(app))
    assert status.json["status"] == "pending"

    restart()
    time.sleep(0.2)  # older than EVENT_REQUEUE_AFTER_SECONDS
    celery = app.extensions["celery"]
    with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        with app.app_context():
            requeue_pending.run()  # what beat does every few seconds
        wait_for(
            lambda: (
                client.get("/events/while-down", headers=steward(app)).json["status"] == "applied"
            ),
            timeout=30,
        )


def steward(app) -> dict:
    with app.app_context():
        return {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}


def test_a_job_whose_worker_was_killed_completes_once_on_another(db, app, instance_path, tmp_path):
    """acks_late: the task of a killed worker is handed out again and finishes once."""
    import json
    import signal
    from pathlib import Path

    from app.jobs import services
    from app.jobs.dispatch import enqueue_jobs
    from app.jobs.models import Job
    from app.jobs.schemas import JobRequest
    from tests.support.factories import dataset_payload
    from tests.support.worker_processes import worker_processes

    settings = {"celery_visibility_timeout": 4}
    api = create_app(make_settings(instance_path, celery_always_eager=False, **settings))
    folder = Path(app.instance_path) / "input"
    folder.mkdir(exist_ok=True)
    (folder / "HUGE.json").write_text(json.dumps(dataset_payload("HUGE", 60_000)))
    celery = api.extensions["celery"]
    celery.control.purge()
    try:
        with api.app_context():
            _, created = services.create_jobs([JobRequest(operation="ADD", target="HUGE")], "t")
            from app.extensions import db as api_db

            api_db.session.commit()
        with worker_processes(
            celery, instance_path, count=1, log_dir=tmp_path, **settings
        ) as first:
            with api.app_context():
                enqueue_jobs(created)
            wait_for(lambda: _job_status(db, created[0]) == "in_progress")
            first[0].send_signal(signal.SIGKILL)
            first[0].wait(timeout=10)
        assert _job_status(db, created[0]) == "in_progress"
        (tmp_path / "again").mkdir()
        with worker_processes(
            celery, instance_path, count=1, log_dir=tmp_path / "again", **settings
        ):
            wait_for(lambda: _job_status(db, created[0]) == "completed", timeout=90)
        db.session.rollback()
        log = [entry.message for entry in services.view(db.session.get(Job, created[0])).log]
        assert log.count("completed") == 1
        assert "started again after a worker was lost" in log
    finally:
        (folder / "HUGE.json").unlink()


def _job_status(db, job_id) -> str:
    from app.jobs.models import Job

    db.session.rollback()
    return db.session.get(Job, job_id).status
