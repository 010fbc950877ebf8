"""Publishing rejected records to the dead letter topic, as hexkit's subscriber does.

The value and key are the original record's, unchanged (a value that is not JSON
cannot be re-serialised). The headers are those hexkit's DLQ consumers read:
`type`, a new `event_id`, `correlation_id`, `exc_class`, `exc_msg`,
`original_topic`, `original_event_id` and `service`. A record too large for the
dead letter topic (its value beyond `KAFKA_MAX_MESSAGE_SIZE`) is published without
its key and value, and its `exc_msg` says so: the inbox row and the original
topic still have them, and one oversized record must not stop the consumer.
"""

import logging
from uuid import uuid4

from confluent_kafka import KafkaError, KafkaException, Producer

from app.kafka.records import RejectedRecord

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_SECONDS = 30.0
# Header values come partly from the record (its `type` header, the reasons it was
# rejected); each is cut so that the headers alone always fit in a message.
HEADER_MAX_CHARS = 2000


class DeadLetterPublishFailed(RuntimeError):
    """The broker did not take every dead letter; the offsets must not be committed."""


class DeadLetterPublisher:
    def __init__(self, producer: Producer, topic: str, service_name: str):
        self._producer = producer
        self._topic = topic
        self._service_name = service_name

    def publish(self, records: list[RejectedRecord]) -> None:
        """Publish and wait until the broker has every one, or raise."""
        if not records:
            return
        failures: list[str] = []

        def delivered(error, message) -> None:
            if error is not None:
                failures.append(str(error))

        for record in records:
            self._produce(record, delivered)
            self._producer.poll(0)
        remaining = self._producer.flush(FLUSH_TIMEOUT_SECONDS)
        if failures or remaining:
            raise DeadLetterPublishFailed(
                f"{len(failures)} dead letter(s) refused, {remaining} unsent: "
                f"{failures[0] if failures else 'timeout'}"
            )
        for record in records:
            log.warning(
                "record %s (event %s) rejected and published to %s: %s: %s",
                record.where,
                record.event_id,
                self._topic,
                record.exc_class,
                record.exc_msg,
            )

    def _produce(self, record: RejectedRecord, delivered) -> None:
        headers = self._headers(record)
        try:
            self._producer.produce(
                self._topic,
                key=record.raw_key,
                value=record.raw_value,
                headers=headers,
                on_delivery=delivered,
            )
        except KafkaException as error:
            if error.args[0].code() != KafkaError.MSG_SIZE_TOO_LARGE:
                raise
            log.warning(
                "record %s too large for %s; published without it", record.where, self._topic
            )
            note = "; the record was too large for the dead letter topic (key and value left out)"
            headers = self._headers(record, note)
            self._producer.produce(self._topic, headers=headers, on_delivery=delivered)

    def _headers(self, record: RejectedRecord, note: str = "") -> list[tuple[str, bytes]]:
        values = {
            "type": record.type_,
            "event_id": str(uuid4()),
            "correlation_id": record.correlation_id,
            "exc_class": record.exc_class,
            "exc_msg": record.exc_msg[: HEADER_MAX_CHARS - len(note)] + note,
            "original_topic": record.where.topic,
            "original_event_id": record.event_id,
            "service": self._service_name,
        }
        return [
            (name, value[:HEADER_MAX_CHARS].encode(errors="replace"))
            for name, value in values.items()
        ]

    def close(self) -> None:
        try:
            self._producer.flush(FLUSH_TIMEOUT_SECONDS)
        except KafkaException:  # closing: nothing left to report to
            log.warning("dead letter producer did not flush on close")
