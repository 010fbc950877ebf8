"""The inbox consumer: Kafka records into the feeds inbox, offsets committed after.

One batch at a time: read up to `KAFKA_CONSUMER_BATCH` records, store them in the
inbox in one transaction (duplicates by `event_id` are ignored), publish the rejected
ones to the dead letter topic, hand the keys to the workers, and only then commit
the batch's offsets. A consumer killed at any point leaves records that are read
again and are duplicates, so nothing is lost and nothing is applied twice.
"""

import logging
import threading
import time
from collections.abc import Iterable
from contextlib import suppress

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from flask import Flask

from app.config import Settings
from app.extensions import db
from app.feeds import intake
from app.feeds import services as feeds
from app.feeds.dispatch import enqueue_keys
from app.kafka.client_config import client_id
from app.kafka.dead_letters import DeadLetterPublisher
from app.kafka.records import RejectedRecord, ValidRecord, read_record

log = logging.getLogger(__name__)

# `consume` returns once it has a full batch or this time has passed: under a backlog
# the batches are full at once; at a steady trickle a record waits at most this long
# before it is stored (1 s made half a second of the publish-to-applied time).
POLL_SECONDS = 0.1


class InboxUnavailable(RuntimeError):
    """The inbox could not take a batch, not even on the dead path; offsets stay."""


def topics(settings: Settings) -> list[str]:
    """The dataset, upload box and accession map topics (the feed settings)."""
    names = (settings.dataset_change_topic, settings.upload_box_topic)
    return list(dict.fromkeys((*names, settings.accession_map_topic)))


class InboxConsumer:
    """Reads the feed topics in group `SERVICE_NAME` and stores every record in the inbox."""

    def __init__(self, app: Flask, consumer: Consumer, dead_letters: DeadLetterPublisher | None):
        self._app = app
        self._settings: Settings = app.extensions["settings"]
        self._consumer = consumer
        self._dead_letters = dead_letters
        self._client_id = client_id(self._settings)

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; leaves the group on the way out."""
        self._consumer.subscribe(
            topics(self._settings), on_assign=_log_assignment, on_revoke=_log_revocation
        )
        log.info("consuming %s as %s", topics(self._settings), self._client_id)
        try:
            while not stop.is_set():
                messages = self._consumer.consume(self._settings.kafka_consumer_batch, POLL_SECONDS)
                records = [message for message in messages if _is_record(message)]
                if records:
                    self.handle(records)
        finally:
            self._consumer.close()
            if self._dead_letters is not None:
                self._dead_letters.close()

    def handle(self, messages: list[Message]) -> None:
        """Store one batch; commit its offsets only once it is safe in the inbox."""
        with self._app.app_context():
            read = [read_record(m, self._settings.generate_correlation_id) for m in messages]
            valid = [record for record in read if isinstance(record, ValidRecord)]
            rejected = [record for record in read if isinstance(record, RejectedRecord)]
            started = time.monotonic()
            self._store(valid, rejected)
            log.info(
                "stored %d record(s), %d rejected, in %.3f s",
                len(valid),
                len(rejected),
                time.monotonic() - started,
            )
            if rejected and self._dead_letters is not None:
                self._dead_letters.publish(rejected)
            elif rejected:
                for record in rejected:
                    log.warning(
                        "record %s (event %s) rejected: %s: %s",
                        record.where,
                        record.event_id,
                        record.exc_class,
                        record.exc_msg,
                    )
            # Duplicates' keys too: a batch read again after a crash still gets applied.
            enqueue_keys(feeds.distinct_keys(record.event for record in valid))
        try:
            self._consumer.commit(offsets=_next_offsets(messages), asynchronous=False)
        except KafkaException as error:  # e.g. the group rebalanced while we stored
            log.warning(
                "offsets not committed (%s); whoever reads these records again finds "
                "them stored already",
                error,
            )

    def _store(self, valid: list[ValidRecord], rejected: list[RejectedRecord]) -> None:
        """One transaction; retried `KAFKA_MAX_RETRIES` times, doubling the backoff."""
        retries = self._settings.kafka_max_retries
        error: Exception | None = None
        for attempt in range(retries + 1):
            if attempt:
                delay = self._settings.kafka_retry_backoff * 2 ** (attempt - 1)
                log.warning(
                    "storing %d record(s) failed (%s); retry %d of %d in %s s",
                    len(valid) + len(rejected),
                    _describe(error),
                    attempt,
                    retries,
                    delay,
                )
                time.sleep(delay)
            try:
                self._write(valid, rejected)
                db.session.commit()
                return
            except Exception as failure:  # the database driver's errors, whatever they are
                _rollback()
                error = failure
        self._store_dead(valid, rejected, error)

    def _store_dead(self, valid, rejected, error: Exception) -> None:
        """The dead path: the events wait, dead, for an operator's replay."""
        reason = f"not stored after {self._settings.kafka_max_retries} retries: {_describe(error)}"
        log.error("storing %d record(s) failed: %s", len(valid) + len(rejected), reason)
        try:
            self._write(valid, rejected, dead_reason=reason)
            db.session.commit()
        except Exception as failure:
            _rollback()
            raise InboxUnavailable(
                f"the inbox cannot take records ({_describe(failure)}); their offsets are "
                "not committed and they are read again after a restart"
            ) from error

    def _write(self, valid, rejected, dead_reason: str | None = None) -> None:
        stored = intake.ingest_batch([(record.event, self._origin(record)) for record in valid])
        for record in rejected:
            intake.record_rejected(
                event_id=record.event_id,
                topic=record.where.topic,
                type_=record.type_,
                key=record.key,
                payload=record.payload,
                error=f"{record.exc_class}: {record.exc_msg}",
                received_from=self._origin(record),
            )
        if dead_reason is not None:
            intake.mark_dead(stored, dead_reason)

    def _origin(self, record: ValidRecord | RejectedRecord) -> str:
        """Who stored it, from where: `kafka <client id> <topic/partition/offset>`."""
        return f"kafka {self._client_id} {record.where}"[:256]


def _is_record(message: Message) -> bool:
    error = message.error()
    if error is None:
        return True
    if error.code() == KafkaError._PARTITION_EOF:
        return False
    if error.fatal():
        raise KafkaException(error)
    log.warning("kafka: %s", error)
    return False


def _next_offsets(messages: Iterable[Message]) -> list[TopicPartition]:
    """Per partition, the offset after the batch's last record: what is committed."""
    after: dict[tuple[str, int], int] = {}
    for message in messages:
        place = (message.topic(), message.partition())
        after[place] = max(after.get(place, 0), message.offset() + 1)
    return [
        TopicPartition(topic, partition, offset) for (topic, partition), offset in after.items()
    ]


def _describe(error: Exception | None) -> str:
    return f"{type(error).__name__}: {error}".splitlines()[0][:500] if error else "unknown"


def _rollback() -> None:
    with suppress(Exception):  # a connection that is gone cannot roll back either
        db.session.rollback()


def _log_assignment(consumer, partitions) -> None:
    log.info("assigned %s", _partition_names(partitions))


def _log_revocation(consumer, partitions) -> None:
    log.info("revoked %s", _partition_names(partitions))


def _partition_names(partitions) -> str:
    return ", ".join(f"{p.topic}/{p.partition}" for p in partitions) or "nothing"
