"""The Kafka consumer against a real Kafka-protocol broker, publishing with hexkit.

The broker is librdkafka's mock cluster in its own process (devtools/kafka_mock_broker.py);
the consumer is `invoke consume-events` as a child process, applying eagerly.
"""

import json
import os
import signal
import time
from datetime import timedelta
from uuid import uuid4

import pytest
from confluent_kafka import Producer
from sqlalchemy import func, select

from app import create_app
from app.catalog.models import AccessionMap, Dataset, UploadBox
from app.database import utc_now
from app.feeds.dispatch import enqueue_keys
from app.feeds.models import InboxEvent
from app.feeds.services import keys_waiting
from app.work_packages.models import WorkPackage
from tests.conftest import make_settings
from tests.support.database_gate import DatabaseGate
from tests.support.factories import (
    ApplicationKeyFactory,
    dataset_payload,
    ghga_v13_box,
    upload_box_payload,
)
from tests.support.hostile_inputs import hostile_documents
from tests.support.kafka_clients import (
    ConsumerProcess,
    consumer_environment,
    consumer_process,
    feed_topics,
    publish,
    read_topic,
    record,
)
from tests.support.waiting import wait_for

MAIN = feed_topics("main")
DLQ_TOPIC = "main-dlq"
# Small, so that one of the hostile records is too large for the dead letter topic.
MAX_MESSAGE_SIZE = 200_000


@pytest.fixture(scope="module")
def running_consumer(kafka_broker, app, instance_path, tmp_path_factory):
    """One consumer with the dead letter topic on, shared by the module's simple stories."""
    kafka_broker.create_topics(*MAIN.values(), DLQ_TOPIC)
    env = consumer_environment(
        instance_path,
        kafka_broker.bootstraps,
        service_name="wps-main",
        service_instance_id="main-1",
        kafka_enable_dlq=True,
        kafka_dlq_topic=DLQ_TOPIC,
        kafka_max_message_size=MAX_MESSAGE_SIZE,
        **MAIN,
    )
    log = tmp_path_factory.mktemp("kafka-main") / "consumer.log"
    with consumer_process(env, log) as consumer:
        yield consumer


@pytest.fixture
def consumer(running_consumer, db):
    return running_consumer


def statuses(db) -> dict[str, str]:
    db.session.rollback()
    return dict(db.session.execute(select(InboxEvent.event_id, InboxEvent.status)).all())


def dataset_record(topics: dict, accession: str, title: str | None = None, **options):
    payload = dataset_payload(accession, files=1)
    payload["title"] = title or payload["title"]
    return record(topics["dataset_change_topic"], "dataset_upserted", accession, payload, **options)


def test_upserts_on_every_topic_and_a_deletion_are_applied(consumer, kafka_broker, db):
    box = upload_box_payload()
    file_id = str(uuid4())
    records = [
        dataset_record(MAIN, "KDS1"),
        record(MAIN["upload_box_topic"], "upserted", box["id"], box),
        record(
            MAIN["accession_map_topic"],
            "upserted",
            "GHGAFKDS10000",
            {"accession": "GHGAFKDS10000", "file_id": file_id},
        ),
        dataset_record(MAIN, "KDS2"),
        record(MAIN["dataset_change_topic"], "dataset_deleted", "KDS2", {"accession": "KDS2"}),
    ]

    publish(kafka_broker.bootstraps, records)

    wait_for(lambda: list(statuses(db).values()) == ["applied"] * 5, timeout=30)
    assert db.session.get(Dataset, "KDS1").title == "Dataset KDS1"
    assert db.session.get(Dataset, "KDS2") is None
    assert str(db.session.get(UploadBox, box["id"]).file_upload_box_id) == box["file_upload_box_id"]
    assert str(db.session.get(AccessionMap, "GHGAFKDS10000").file_id) == file_id
    stored = db.session.scalars(select(InboxEvent)).all()
    assert {event.event_id for event in stored} == {str(r.event_id) for r in records}
    assert all(event.received_from.startswith("kafka wps-main.main-1 main-") for event in stored)


def test_a_v13_box_keeps_its_max_size_and_its_deletion_takes_its_packages(
    consumer, kafka_broker, db
):
    """ghga-event-schemas 13 publishers (hexkit, as GHGA's services publish) send
    `max_size`; a deleted box's work packages go with it (WPS 11.1)."""
    box = ghga_v13_box(max_size=7_000_000_000_000)
    publish(kafka_broker.bootstraps, [record(MAIN["upload_box_topic"], "upserted", box["id"], box)])
    wait_for(lambda: list(statuses(db).values()) == ["applied"], timeout=30)
    assert db.session.get(UploadBox, box["id"]).max_size == 7_000_000_000_000
    db.session.add(upload_package_for(box))
    db.session.commit()

    deletion = record(MAIN["upload_box_topic"], "deleted", box["id"], {})
    publish(kafka_broker.bootstraps, [deletion])

    wait_for(lambda: statuses(db).get(str(deletion.event_id)) == "applied", timeout=30)
    assert db.session.get(UploadBox, box["id"]) is None
    assert db.session.scalar(select(func.count()).select_from(WorkPackage)) == 0


def upload_package_for(box: dict) -> WorkPackage:
    now = utc_now()
    return WorkPackage(
        type="upload",
        user_id=uuid4(),
        full_user_name="Dr. Jane Doe",
        email="jane@example.org",
        research_data_upload_box_id=box["id"],
        file_upload_box_id=box["file_upload_box_id"],
        user_public_crypt4gh_key="A" * 44,
        token_hash=uuid4().hex * 2,
        created=now,
        expires=now + timedelta(days=1),
    )


def test_a_redelivered_event_id_is_applied_once(consumer, kafka_broker, db):
    event_id = uuid4()
    first = dataset_record(MAIN, "KDS3", "first", event_id=event_id)
    again = dataset_record(MAIN, "KDS3", "changed on the way", event_id=event_id)
    marker = dataset_record(MAIN, "KDS3", "after")

    publish(kafka_broker.bootstraps, [first, again])
    publish(kafka_broker.bootstraps, [marker])

    wait_for(lambda: statuses(db).get(str(marker.event_id)) == "applied", timeout=30)
    assert statuses(db) == {str(event_id): "applied", str(marker.event_id): "applied"}
    title_after_first = db.session.scalar(
        select(InboxEvent.payload).where(InboxEvent.event_id == str(event_id))
    )["title"]
    assert title_after_first == "first"
    assert db.session.get(Dataset, "KDS3").title == "after"


def test_invalid_records_are_rejected_and_do_not_hold_back_their_key(
    consumer, kafka_broker, db, client, steward_key
):
    topic = MAIN["dataset_change_topic"]
    unknown_type = record(topic, "dataset_exploded", "KDS4", dataset_payload("KDS4", 1))
    incomplete = dataset_payload("KDS4", 1)
    del incomplete["title"]
    invalid_payload = record(topic, "dataset_upserted", "KDS4", incomplete)
    unstorable = record(topic, "dataset_upserted", "KDS4", dataset_payload("KDS4", 1))
    unstorable.payload["title"] = "nul\x00byte"
    valid = dataset_record(MAIN, "KDS4", "valid at last")
    # Bad JSON cannot come out of hexkit's publisher (it serialises the payload), so a
    # plain producer writes that one record, with hexkit's headers.
    not_json_id = str(uuid4())
    raw = Producer({"bootstrap.servers": kafka_broker.bootstraps})
    raw.produce(
        topic,
        key=b"KDS4",
        value=b'{"accession": "KDS4", "title": ',
        headers=[
            ("type", b"dataset_upserted"),
            ("event_id", not_json_id.encode()),
            ("correlation_id", str(uuid4()).encode()),
        ],
    )
    assert raw.flush(10) == 0

    publish(kafka_broker.bootstraps, [unknown_type, invalid_payload, unstorable, valid])

    wait_for(lambda: statuses(db).get(str(valid.event_id)) == "applied", timeout=30)
    assert db.session.get(Dataset, "KDS4").title == "valid at last"
    rejected = client.get("/events?status=rejected", headers=steward_key).json
    by_id = {item["event_id"]: item for item in rejected["items"]}
    assert set(by_id) == {
        not_json_id,
        str(unknown_type.event_id),
        str(invalid_payload.event_id),
        str(unstorable.event_id),
    }
    assert "NUL" in by_id[str(unstorable.event_id)]["last_error"]
    assert by_id[not_json_id]["last_error"].startswith("NotJson: the value is not JSON")
    assert "dataset_exploded" in by_id[str(unknown_type.event_id)]["last_error"]
    assert "title" in by_id[str(invalid_payload.event_id)]["last_error"]
    assert all(item["key"] == "KDS4" and item["attempts"] == 0 for item in by_id.values())

    letters = read_topic(kafka_broker.bootstraps, DLQ_TOPIC, 4)
    by_original = {}
    for letter in letters:
        letter_headers = dict(letter.headers())
        by_original[letter_headers["original_event_id"].decode()] = (letter_headers, letter)
    assert set(by_original) == set(by_id)
    for letter_headers, letter in by_original.values():
        assert letter_headers["original_topic"] == topic.encode()
        assert letter_headers["service"] == b"wps-main"
        assert letter.key() == b"KDS4"
        assert letter_headers["event_id"] != letter_headers["original_event_id"]
    not_json_headers, not_json_letter = by_original[not_json_id]
    assert not_json_headers["exc_class"] == b"NotJson"
    assert not_json_letter.value() == b'{"accession": "KDS4", "title": '
    unknown_headers, _ = by_original[str(unknown_type.event_id)]
    assert unknown_headers["exc_class"] == b"InvalidEvent"
    assert b"unknown topic and type" in unknown_headers["exc_msg"]
    assert unknown_headers["type"] == b"dataset_exploded"


def produce_raw(bootstraps: str, topic: str, items: list[tuple[bytes, bytes, list]]) -> None:
    """(key, value, headers) records, all to partition 0, as any producer could write them."""
    producer = Producer({"bootstrap.servers": bootstraps, "message.max.bytes": 2_000_000})
    for key, value, headers in items:
        producer.produce(topic, key=key, value=value, headers=headers, partition=0)
    assert producer.flush(30) == 0


def hexkit_headers(event_id: str, type_: bytes = b"dataset_upserted") -> list:
    return [
        ("type", type_),
        ("event_id", event_id.encode()),
        ("correlation_id", str(uuid4()).encode()),
    ]


def test_hostile_records_are_rejected_and_the_next_record_of_their_key_is_applied(
    consumer, kafka_broker, db
):
    topic = MAIN["dataset_change_topic"]
    corpus = hostile_documents(dataset_payload("KHOSTILE", 1), "accession")
    hostile = {str(uuid4()): (name, value) for name, value in corpus}
    items = [(b"KHOSTILE", value, hexkit_headers(id_)) for id_, (_, value) in hostile.items()]
    # What a producer can break beside the value: the key, the headers.
    odd_headers = str(uuid4())
    items.append(
        (b"KHOSTILE", b"[" * 100_000, [("type", b"\xff\xfe"), ("event_id", odd_headers.encode())])
    )
    nul_key = str(uuid4())
    items.append((b"K\x00HOSTILE", b"{}", hexkit_headers(nul_key)))
    good_id = str(uuid4())
    good = json.dumps(dataset_payload("KHOSTILE", 1) | {"title": "applied after all"})
    items.append((b"KHOSTILE", good.encode(), hexkit_headers(good_id)))

    produce_raw(kafka_broker.bootstraps, topic, items)

    wait_for(lambda: statuses(db).get(good_id) == "applied", timeout=60)
    assert consumer.process.poll() is None, consumer.log()[-3000:]
    assert db.session.get(Dataset, "KHOSTILE").title == "applied after all"
    found = statuses(db)
    not_rejected = {
        name: found.get(id_) for id_, (name, _) in hostile.items() if found.get(id_) != "rejected"
    }
    assert not_rejected == {}
    assert found[nul_key] == "rejected"
    odd = db.session.scalars(select(InboxEvent).where(InboxEvent.status == "rejected")).all()
    assert any(event.type == "\ufffd\ufffd" and event.key == "KHOSTILE" for event in odd)
    letters = read_topic(kafka_broker.bootstraps, DLQ_TOPIC, 100, timeout=15)
    ours = {dict(m.headers())["original_event_id"].decode(): m for m in letters}
    huge = next(id_ for id_, (name, _) in hostile.items() if name == "huge string in a field")
    assert ours[huge].value() is None
    assert b"too large for the dead letter topic" in dict(ours[huge].headers())["exc_msg"]
    deep = next(id_ for id_, (name, _) in hostile.items() if name == "deep arrays")
    assert ours[deep].value() == b"[" * 100_000
    assert b"recursion limit" in dict(ours[deep].headers())["exc_msg"]


def stored_by(db) -> dict[str, str]:
    """event_id -> the `received_from` of its row."""
    db.session.rollback()
    return dict(db.session.execute(select(InboxEvent.event_id, InboxEvent.received_from)).all())


def test_two_consumers_of_one_group_share_the_partitions_and_one_takes_over(
    kafka_broker, db, instance_path, tmp_path
):
    topics = feed_topics("shared")
    kafka_broker.create_topics(*topics.values(), partitions=4)

    def environment(number: int) -> dict:
        return consumer_environment(
            instance_path,
            kafka_broker.bootstraps,
            service_name="wps-shared",
            service_instance_id=f"shared-{number}",
            **topics,
        )

    with (
        consumer_process(environment(1), tmp_path / "first.log") as first,
        consumer_process(environment(2), tmp_path / "second.log"),
    ):
        wait_for(lambda: "revoked" in first.log(), timeout=30)  # the group rebalanced
        both = [dataset_record(topics, f"SHARE{n:02d}") for n in range(40)]
        publish(kafka_broker.bootstraps, both)
        wait_for(lambda: list(statuses(db).values()) == ["applied"] * 40, timeout=60)
        shared = stored_by(db)

        assert first.stop() == 0  # SIGTERM: it leaves the group
        second_only = [dataset_record(topics, f"ALONE{n:02d}") for n in range(40)]
        publish(kafka_broker.bootstraps, second_only)
        wait_for(lambda: list(statuses(db).values()) == ["applied"] * 80, timeout=60)
        after = stored_by(db)

    def partitions_of(consumer: str, rows: dict) -> set[str]:
        return {
            origin.split()[2].rsplit("/", 1)[0] for origin in rows.values() if consumer in origin
        }

    first_partitions = partitions_of("wps-shared.shared-1", shared)
    second_partitions = partitions_of("wps-shared.shared-2", shared)
    assert first_partitions and second_partitions
    assert not first_partitions & second_partitions
    taken_over = {str(r.event_id): after[str(r.event_id)] for r in second_only}
    assert all(origin.startswith("kafka wps-shared.shared-2 ") for origin in taken_over.values())
    assert partitions_of("wps-shared.shared-2", taken_over) & first_partitions


def inbox_count(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(InboxEvent))


def test_a_consumer_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    kafka_broker, db, instance_path, tmp_path
):
    topics = feed_topics("killed")
    kafka_broker.create_topics(*topics.values())
    records = [
        dataset_record(topics, f"KILL{n % 200:03d}", f"version {n // 200}") for n in range(400)
    ]
    publish(kafka_broker.bootstraps, records)
    env = consumer_environment(
        instance_path,
        kafka_broker.bootstraps,
        service_name="wps-killed",
        kafka_consumer_batch=50,
        **topics,
    )

    victim = ConsumerProcess(env, tmp_path / "killed.log")
    wait_for(lambda: inbox_count(db) >= 100, timeout=60, interval=0.01)
    os.kill(victim.process.pid, signal.SIGKILL)
    victim.stop()
    stored_at_kill = inbox_count(db)
    with consumer_process(env, tmp_path / "restarted.log"):
        wait_for(lambda: inbox_count(db) == 400, timeout=120)
        # Keys whose application the kill interrupted wait for beat's requeue run.
        eager = create_app(make_settings(instance_path, **topics))
        with eager.app_context():
            enqueue_keys(keys_waiting(utc_now()))
        wait_for(lambda: set(statuses(db).values()) == {"applied"}, timeout=60)

    assert stored_at_kill < 400
    assert set(statuses(db)) == {str(r.event_id) for r in records}
    titles = set(db.session.scalars(select(Dataset.title).where(Dataset.accession.like("KILL%"))))
    assert titles == {"version 1"}
    assert db.session.scalar(select(func.count()).select_from(Dataset)) == 200


def test_database_down_the_batch_is_retried_then_the_consumer_stops_without_committing(
    kafka_broker, db, instance_path, tmp_path
):
    topics = feed_topics("dbdown")
    kafka_broker.create_topics(*topics.values())
    waiting = dataset_record(topics, "KDOWN", "stored after all")
    publish(kafka_broker.bootstraps, [waiting])
    env = consumer_environment(
        instance_path,
        kafka_broker.bootstraps,
        service_name="wps-dbdown",
        kafka_max_retries=2,
        kafka_retry_backoff=1,
        **topics,
    )
    unreachable = env | {"SQLALCHEMY_DATABASE_URI": "postgresql://postgres@127.0.0.1:1/gone"}

    started = time.monotonic()
    failing = ConsumerProcess(unreachable, tmp_path / "failing.log")
    code = failing.process.wait(timeout=120)
    failing.stop()
    log = failing.log()

    assert code != 0
    assert "retry 1 of 2 in 1 s" in log and "retry 2 of 2 in 2 s" in log
    assert "read again after a restart" in log
    assert time.monotonic() - started >= 3
    with consumer_process(env, tmp_path / "recovered.log"):
        wait_for(lambda: statuses(db) == {str(waiting.event_id): "applied"}, timeout=60)
    assert db.session.get(Dataset, "KDOWN").title == "stored after all"


def test_records_the_database_refused_through_every_retry_wait_dead_for_a_replay(
    kafka_broker, db, instance_path, tmp_path
):
    topics = feed_topics("refused")
    kafka_broker.create_topics(*topics.values())
    refused = dataset_record(topics, "KREFUSED", "replayed by an operator")
    publish(kafka_broker.bootstraps, [refused])
    env = consumer_environment(
        instance_path,
        kafka_broker.bootstraps,
        service_name="wps-refused",
        kafka_max_retries=1,
        kafka_retry_backoff=0,
        **topics,
    )

    # The first try and the one retry find the database gone; the dead path finds it back.
    with DatabaseGate(refuse_first=2) as gate:
        with consumer_process(env | {"SQLALCHEMY_DATABASE_URI": gate.url}, tmp_path / "c.log"):
            wait_for(lambda: statuses(db).get(str(refused.event_id)) == "dead", timeout=60)
        assert gate.refused == 2

    operator = create_app(make_settings(instance_path, **topics))  # knows the topics
    steward = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}
    client = operator.test_client()
    dead = client.get(f"/events/{refused.event_id}", headers=steward).json
    assert dead["last_error"].startswith("not stored after 1 retries: OperationalError")
    assert client.post(f"/events/{refused.event_id}/replay", headers=steward).status_code == 200
    assert statuses(db) == {str(refused.event_id): "applied"}
    assert db.session.get(Dataset, "KREFUSED").title == "replayed by an operator"
