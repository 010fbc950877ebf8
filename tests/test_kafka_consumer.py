"""The Kafka consumer against a real Kafka-protocol broker, publishing with hexkit.

The broker is librdkafka's mock cluster in its own process (tests/kafka_mock_broker.py);
the consumer is `invoke consume-events` as a child process, applying eagerly.
"""

from uuid import uuid4

import pytest
from confluent_kafka import Producer
from sqlalchemy import select

from app.catalog.models import AccessionMap, Dataset, UploadBox
from app.feeds.models import InboxEvent
from tests.factories import dataset_payload, upload_box_payload
from tests.kafka_clients import (
    consumer_environment,
    consumer_process,
    feed_topics,
    publish,
    read_topic,
    record,
)
from tests.waiting import wait_for

MAIN = feed_topics("main")
DLQ_TOPIC = "main-dlq"


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

    publish(kafka_broker.bootstraps, [unknown_type, invalid_payload, valid])

    wait_for(lambda: statuses(db).get(str(valid.event_id)) == "applied", timeout=30)
    assert db.session.get(Dataset, "KDS4").title == "valid at last"
    rejected = client.get("/events?status=rejected", headers=steward_key).json
    by_id = {item["event_id"]: item for item in rejected["items"]}
    assert set(by_id) == {not_json_id, str(unknown_type.event_id), str(invalid_payload.event_id)}
    assert by_id[not_json_id]["last_error"].startswith("JSONDecodeError: the value is not JSON")
    assert "dataset_exploded" in by_id[str(unknown_type.event_id)]["last_error"]
    assert "title" in by_id[str(invalid_payload.event_id)]["last_error"]
    assert all(item["key"] == "KDS4" and item["attempts"] == 0 for item in by_id.values())

    letters = read_topic(kafka_broker.bootstraps, DLQ_TOPIC, 3)
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
    assert not_json_headers["exc_class"] == b"JSONDecodeError"
    assert not_json_letter.value() == b'{"accession": "KDS4", "title": '
    unknown_headers, _ = by_original[str(unknown_type.event_id)]
    assert unknown_headers["exc_class"] == b"RequestValidationFailed"
    assert b"unknown topic and type" in unknown_headers["exc_msg"]
    assert unknown_headers["type"] == b"dataset_exploded"
