"""Sets of events under faults: two Kafka consumers feeding two workers, and a worker
killed (SIGKILL) in the middle of a set's transaction (ADR 0027).

Each test starts its own workers, with the settings its story needs.
"""

import os
import signal

import psycopg2
import pytest
from sqlalchemy import func, select

from app.catalog.models import Dataset
from app.feeds.models import FeedKey, InboxEvent
from tests.conftest import TEST_DATABASE_URL
from tests.support.factories import ApplicationKeyFactory, dataset_payload
from tests.support.feed_workers import FEED_SETTINGS, statuses, worker_app
from tests.support.kafka_clients import (
    consumer_environment,
    consumer_process,
    feed_topics,
    publish,
    record,
)
from tests.support.waiting import wait_for
from tests.support.worker_processes import worker_processes
from tests.test_feed_batches import versioned

pytestmark = pytest.mark.worker


def finished_in_arrival_order(db, key: str) -> bool:
    finished = db.session.scalars(
        select(InboxEvent.finished_at).where(InboxEvent.key == key).order_by(InboxEvent.id)
    ).all()
    return finished == sorted(finished)


def test_order_per_key_with_two_consumers_and_two_workers(
    kafka_broker, app, db, instance_path, tmp_path
):
    topics = feed_topics("pair")
    kafka_broker.create_topics(*topics.values(), partitions=2)
    settings = FEED_SETTINGS | topics
    celery = worker_app(instance_path, **topics).extensions["celery"]
    celery.control.purge()

    def consumer_env(number: int) -> dict:
        return consumer_environment(
            instance_path,
            kafka_broker.bootstraps,
            service_name="wps-pair",
            service_instance_id=f"pair-{number}",
            celery_always_eager=False,
            kafka_consumer_batch=25,
            **settings,
        )

    keys = [f"PAIR{n:02d}" for n in range(40)]
    records = []
    for version in range(10):  # interleaved: every key changes in every round
        for key in keys:
            payload = dataset_payload(key, files=1) | {"title": f"version {version}"}
            records.append(record(topics["dataset_change_topic"], "dataset_upserted", key, payload))
    with (
        worker_processes(celery, instance_path, count=2, log_dir=tmp_path, **settings),
        consumer_process(consumer_env(1), tmp_path / "first.log") as first,
        consumer_process(consumer_env(2), tmp_path / "second.log"),
    ):
        wait_for(lambda: "revoked" in first.log(), timeout=30)  # the group rebalanced
        publish(kafka_broker.bootstraps, records)
        wait_for(lambda: list(statuses(db).values()) == ["applied"] * 400, timeout=120)

    origins = set(db.session.scalars(select(InboxEvent.received_from)))
    assert {origin.split()[1] for origin in origins} == {"wps-pair.pair-1", "wps-pair.pair-2"}
    titles = dict(db.session.execute(select(Dataset.accession, Dataset.title)).all())
    assert titles == dict.fromkeys(keys, "version 9")
    progress = dict(db.session.execute(select(FeedKey.key, FeedKey.last_event_id)).all())
    assert progress == {key: str(records[-40 + n].event_id) for n, key in enumerate(keys)}
    assert all(finished_in_arrival_order(db, key) for key in keys)


def held_on_lock(query_start: str) -> bool:
    with psycopg2.connect(TEST_DATABASE_URL) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE %s",
            (query_start + "%",),
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(app, db, instance_path, tmp_path):
    """The worker is killed while its set's transaction waits inside the catalog write;
    the broker hands the task to the other workers, which apply every event once."""
    settings = FEED_SETTINGS | {"celery_visibility_timeout": 3}
    api = worker_app(instance_path, **settings)
    celery = api.extensions["celery"]
    celery.control.purge()
    client = api.test_client()
    headers = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}
    batch = [versioned(f"KILL{n % 250:03d}", n // 250, f"kill-{n}") for n in range(500)]

    blocker = psycopg2.connect(TEST_DATABASE_URL)
    try:
        with blocker.cursor() as cursor:  # the catalog write of the set will wait here
            cursor.execute("LOCK TABLE dataset IN SHARE ROW EXCLUSIVE MODE")
        with worker_processes(celery, instance_path, count=1, log_dir=tmp_path, **settings) as (
            victim,
        ):
            assert client.post("/events", json=batch, headers=headers).status_code == 202
            wait_for(lambda: held_on_lock('INSERT INTO "dataset"'), timeout=30)
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
    finally:
        blocker.rollback()
        blocker.close()
    assert set(statuses(db).values()) == {"pending"}  # the killed transaction left nothing

    (tmp_path / "after").mkdir()
    with worker_processes(celery, instance_path, count=2, log_dir=tmp_path / "after", **settings):
        wait_for(lambda: list(statuses(db).values()) == ["applied"] * 500, timeout=60)

    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(InboxEvent)) == 500
    titles = set(db.session.scalars(select(Dataset.title).where(Dataset.accession.like("KILL%"))))
    assert titles == {"version 1"}
    assert db.session.scalar(select(func.count()).select_from(Dataset)) == 250
    attempts = set(db.session.scalars(select(InboxEvent.attempts)))
    assert attempts == {0}  # no event failed, none was retried
    progress = set(db.session.scalars(select(FeedKey.last_event_id)))
    assert progress == {f"kill-{n}" for n in range(250, 500)}
