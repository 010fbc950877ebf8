"""Feeds and jobs with real Celery workers on PostgreSQL and Redis (or RabbitMQ: CI runs
this module again with TEST_BROKER_URL=amqp://...)."""

import time
from uuid import uuid4

import pytest
from sqlalchemy import select

from app.catalog.models import Dataset, UploadBox
from app.feeds.models import InboxEvent
from tests.conftest import TEST_BROKER_URL
from tests.support.factories import (
    ApplicationKeyFactory,
    box_event,
    dataset_event,
    upload_box_payload,
)
from tests.support.feed_workers import statuses, worker_app
from tests.support.waiting import wait_for

pytestmark = pytest.mark.worker


def unreachable(broker_url: str) -> str:
    """The same kind of broker on a port where nothing listens."""
    scheme, rest = broker_url.split("://", 1)
    credentials = rest.rsplit("@", 1)[0] + "@" if "@" in rest else ""
    path = rest.split("/", 1)[1] if "/" in rest else ""
    return f"{scheme}://{credentials}127.0.0.1:1/{path}"


def test_events_of_one_key_are_applied_in_order_by_two_workers(workers, db):
    client = workers.test_client()
    key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}
    versions = []
    for n in range(12):
        event = dataset_event("DS1", files=1, event_id=f"ds1-{n:02d}")
        event["payload"]["title"] = f"version {n}"
        versions.append(event)
        others = [dataset_event(f"X{n}", files=1, event_id=f"other-{n}")]
        assert client.post("/events", json=[event, *others], headers=key).status_code == 202

    wait_for(lambda: set(statuses(db).values()) == {"applied"}, timeout=30)

    db.session.rollback()
    assert db.session.get(Dataset, "DS1").title == "version 11"
    applied = db.session.scalars(
        select(InboxEvent).where(InboxEvent.key == "DS1").order_by(InboxEvent.id)
    ).all()
    finished = [event.finished_at for event in applied]
    assert finished == sorted(finished)
    assert len(statuses(db)) == 24


def test_poison_event_goes_dead_after_its_attempts_and_replays_after_a_fix(workers, db):
    client = workers.test_client()
    key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}
    steward = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}
    shared = str(uuid4())
    owner = upload_box_payload(file_upload_box_id=shared)
    poison = upload_box_payload(file_upload_box_id=shared)
    client.post("/events", json=box_event(owner, event_id="owner"), headers=key)
    wait_for(lambda: statuses(db).get("owner") == "applied", timeout=30)

    client.post("/events", json=box_event(poison, event_id="poison"), headers=key)
    client.post("/events", json=dataset_event("FLOWING", event_id="flowing"), headers=key)

    wait_for(lambda: statuses(db).get("poison") == "dead", timeout=30)
    dead = client.get("/events/poison", headers=steward).json
    assert dead["attempts"] == 3
    assert statuses(db)["flowing"] == "applied"

    client.delete(f"/upload-boxes/{owner['id']}", headers=steward)
    assert client.post("/events/poison/replay", headers=steward).status_code == 200
    wait_for(lambda: statuses(db).get("poison") == "applied", timeout=30)
    db.session.rollback()
    assert db.session.get(UploadBox, poison["id"]) is not None


def test_events_wait_in_the_inbox_while_the_broker_is_unreachable(workers, db, instance_path):
    cut_off = worker_app(instance_path, celery_broker_url=unreachable(TEST_BROKER_URL))
    client = cut_off.test_client()
    key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}

    started = time.monotonic()
    response = client.post("/events", json=dataset_event("LATE", event_id="late"), headers=key)

    assert response.status_code == 202
    assert time.monotonic() - started < 10
    assert statuses(db) == {"late": "pending"}

    # The broker is back: beat's next requeue run hands the waiting key to a worker.
    time.sleep(0.2)  # older than EVENT_REQUEUE_AFTER_SECONDS
    workers.extensions["celery"].send_task("feeds.requeue_pending")
    wait_for(lambda: statuses(db) == {"late": "applied"}, timeout=30)


def test_jobs_run_on_real_workers_and_wait_out_maintenance(workers, db, app):
    import json
    from pathlib import Path

    from app.extensions import db as workers_db
    from app.jobs import services
    from app.jobs.dispatch import enqueue_jobs
    from app.jobs.schemas import JobRequest
    from tests.support.factories import dataset_payload

    client = workers.test_client()
    key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("JOBS_ADMIN",)).key}
    folder = Path(app.instance_path) / "input"
    folder.mkdir(exist_ok=True)
    (folder / "JOBDS.json").write_text(json.dumps(dataset_payload("JOBDS", 2)))
    try:
        with workers.app_context():  # a job queued just before maintenance starts
            _, created = services.create_jobs([JobRequest(operation="ADD", target="JOBDS")], "t")
            workers_db.session.commit()
        client.post("/maintenance-status", json={"msg": "upgrade", "paused": True}, headers=key)
        with workers.app_context():
            enqueue_jobs(created)
        refused = client.post(
            "/jobs", json={"jobs": [{"operation": "REMOVE", "target": "JOBDS"}]}, headers=key
        ).json
        time.sleep(1.0)  # the workers receive the job and leave it queued
        held = client.get(f"/jobs/{created[0]}", headers=key).json["status"]

        client.post("/maintenance-status", json={"msg": "done", "paused": False}, headers=key)

        wait_for(
            lambda: client.get(f"/jobs/{created[0]}", headers=key).json["status"] == "completed",
            timeout=30,
        )
        assert refused[0] == {"job_id": None, "status": "FAILED", "msg": "maintenance: upgrade"}
        assert held == "queued"
        db.session.rollback()
        assert db.session.get(Dataset, "JOBDS") is not None
    finally:
        (folder / "JOBDS.json").unlink()
