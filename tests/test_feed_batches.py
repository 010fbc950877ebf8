"""Feeds applied a set at a time by two real Celery workers (PostgreSQL, Redis): order per
key, redelivery, and one poison event among hundreds (ADR 0027)."""

import threading
import time
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from app.catalog.models import Dataset, DatasetFile, UploadBox
from app.feeds.models import FeedKey, InboxEvent
from tests.support.factories import (
    ApplicationKeyFactory,
    box_event,
    dataset_event,
    dataset_payload,
    upload_box_payload,
)
from tests.support.feed_workers import FEED_SETTINGS, statuses
from tests.support.waiting import wait_for

pytestmark = pytest.mark.worker


def publisher():
    return {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}


def versioned(accession: str, version: int, event_id: str) -> dict:
    event = dataset_event(accession, files=1, event_id=event_id)
    event["payload"]["title"] = f"version {version}"
    return event


def last_event_per_key(db) -> dict[str, str]:
    """Per dataset key, the title its last stored event (by arrival) carries."""
    db.session.rollback()
    events = db.session.scalars(select(InboxEvent).order_by(InboxEvent.id)).all()
    return {event.key: event.payload["title"] for event in events}


def test_order_per_key_holds_with_two_workers_and_two_publishers_interleaving(workers, db):
    """Two publishers send interleaved batches touching the same 40 keys; the two workers
    take the keys a set at a time. Each key ends at the state of its last stored event,
    and every event is applied once, in arrival order."""
    keys = [f"ORDER{n:02d}" for n in range(40)]
    headers = publisher()
    errors: list = []

    def publish(name: str) -> None:
        client = workers.test_client()
        try:
            for round_ in range(10):
                batch = [versioned(k, round_, f"{name}-{round_}-{k}") for k in keys]
                response = client.post("/events", json=batch, headers=headers)
                assert response.status_code == 202, response.json
        except Exception as error:  # reported in the main thread
            errors.append(error)

    threads = [threading.Thread(target=publish, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    wait_for(lambda: set(statuses(db).values()) == {"applied"}, timeout=60)
    assert len(statuses(db)) == 2 * 10 * 40
    expected = last_event_per_key(db)
    titles = dict(db.session.execute(select(Dataset.accession, Dataset.title)).all())
    assert titles == expected
    # Each key's progress names its last event: nothing was applied after it.
    last_ids = dict(db.session.execute(select(FeedKey.key, FeedKey.last_event_id)).all())
    newest = {}
    for event in db.session.scalars(select(InboxEvent).order_by(InboxEvent.id)):
        newest[event.key] = event.event_id
    assert last_ids == newest
    for key in keys:
        finished = db.session.scalars(
            select(InboxEvent.finished_at).where(InboxEvent.key == key).order_by(InboxEvent.id)
        ).all()
        assert finished == sorted(finished), key


def test_two_batches_sharing_a_key_are_stored_one_after_the_other(app, db):
    """Two publishers store events of one key at once (PostgreSQL): the second waits
    until the first has committed, so no event of a key is committed, and applied,
    before one with a lower id; a batch of other keys does not wait."""
    from app.extensions import db as database
    from app.feeds import intake
    from app.feeds.schemas import EventEnvelope

    first_stored, release = threading.Event(), threading.Event()
    finished: dict[str, float] = {}

    def store(event_id: str, key: str, hold: bool = False) -> None:
        with app.app_context():
            event = EventEnvelope.model_validate(versioned(key, 0, event_id))
            intake.ingest([event], received_from="test")
            if hold:
                first_stored.set()
                release.wait(10)
            database.session.commit()
        finished[event_id] = time.monotonic()

    store("turn-0", "TURNS")  # both keys known already: their rows lock nobody out
    store("other-0", "OTHERS")
    first = threading.Thread(target=store, args=("turn-1", "TURNS", True))
    first.start()
    assert first_stored.wait(10)
    second = threading.Thread(target=store, args=("turn-2", "TURNS"))
    other = threading.Thread(target=store, args=("other-1", "OTHERS"))
    second.start()
    other.start()
    other.join(10)
    time.sleep(1)

    assert "other-1" in finished  # another key's batch went through
    assert "turn-2" not in finished  # the same key's waits for the first's commit
    release.set()
    first.join(10)
    second.join(10)
    assert finished["turn-1"] <= finished["turn-2"]
    db.session.rollback()
    ids = dict(db.session.execute(select(InboxEvent.event_id, InboxEvent.id)).all())
    assert ids["turn-1"] < ids["turn-2"]


def test_a_redelivered_batch_applies_nothing_twice(workers, db):
    client = workers.test_client()
    headers = publisher()
    steward = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}
    batch = [versioned(f"AGAIN{n:03d}", 0, f"again-{n}") for n in range(300)]
    assert client.post("/events", json=batch, headers=headers).status_code == 202
    wait_for(lambda: list(statuses(db).values()) == ["applied"] * 300, timeout=60)

    # A steward changes one dataset after the feed applied it.
    changed = dataset_payload("AGAIN007", files=3) | {"title": "fixed by the steward"}
    assert client.put("/datasets/AGAIN007", json=changed, headers=steward).status_code == 200

    # The producer sends the same batch again, and the broker delivers the workers'
    # task for the batch's keys twice more.
    again = client.post("/events", json=batch, headers=headers)
    celery = workers.extensions["celery"]
    keys = [["metadata-datasets", f"AGAIN{n:03d}"] for n in range(300)]
    for _ in range(2):
        celery.send_task("feeds.apply_keys", args=[keys])
    wait_for(lambda: not _queued(celery), timeout=30)
    time.sleep(2)  # the last task taken has run

    assert {r["status"] for r in again.json["results"]} == {"duplicate"}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(InboxEvent)) == 300
    assert db.session.get(Dataset, "AGAIN007").title == "fixed by the steward"
    assert (
        db.session.scalar(select(func.count()).where(DatasetFile.dataset_accession == "AGAIN007"))
        == 3
    )


def _queued(celery) -> bool:
    with celery.connection_for_write() as connection:
        return connection.default_channel.client.llen("celery") > 0


def test_a_poison_event_in_a_batch_of_500_stops_its_key_only(workers, db):
    client = workers.test_client()
    headers = publisher()
    shared = str(uuid4())
    owner = upload_box_payload(file_upload_box_id=shared)
    assert client.post("/events", json=box_event(owner), headers=headers).status_code == 202
    wait_for(lambda: list(statuses(db).values()) == ["applied"], timeout=30)

    # The poison box claims the owner's file upload box: it can never be applied.
    poison = upload_box_payload(file_upload_box_id=shared)
    batch = [versioned(f"MANY{n:03d}", 0, f"many-{n}") for n in range(250)]
    batch.append(box_event(poison, event_id="poison"))
    batch += [versioned(f"MANY{n:03d}", 0, f"many-{n}") for n in range(250, 499)]
    assert len(batch) == 500
    assert client.post("/events", json=batch, headers=headers).status_code == 202
    after = box_event(dict(poison, version=1), event_id="after-poison")
    assert client.post("/events", json=after, headers=headers).status_code == 202

    wait_for(lambda: statuses(db).get("poison") == "dead", timeout=60)
    wait_for(lambda: sum(s == "applied" for s in statuses(db).values()) == 1 + 499, timeout=60)
    final = statuses(db)
    assert final["after-poison"] == "pending"  # held behind the dead event of its key
    assert {final[f"many-{n}"] for n in range(499)} == {"applied"}
    assert (
        db.session.scalar(
            select(func.count()).select_from(Dataset).where(Dataset.accession.like("MANY%"))
        )
        == 499
    )
    assert db.session.get(UploadBox, poison["id"]) is None
    dead = db.session.scalars(select(InboxEvent).where(InboxEvent.event_id == "poison")).one()
    assert dead.attempts == FEED_SETTINGS["event_max_attempts"]
    assert "belongs to upload box" in dead.last_error
