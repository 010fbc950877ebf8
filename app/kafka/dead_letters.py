"""Publishing rejected records to the dead letter topic, as hexkit's subscriber does.

The value and key are the original record's, unchanged (a value that is not JSON
cannot be re-serialised). The headers are those hexkit's DLQ consumers read:
`type`, a new `event_id`, `correlation_id`, `exc_class`, `exc_msg`,
`original_topic`, `original_event_id` and `service`.
"""

import logging
from uuid import uuid4

from confluent_kafka import KafkaException, Producer

from app.kafka.records import RejectedRecord

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_SECONDS = 30.0


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
            self._producer.produce(
                self._topic,
                key=record.raw_key,
                value=record.raw_value,
                headers=self._headers(record),
                on_delivery=delivered,
            )
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

    def _headers(self, record: RejectedRecord) -> list[tuple[str, bytes]]:
        values = {
            "type": record.type_,
            "event_id": str(uuid4()),
            "correlation_id": record.correlation_id,
            "exc_class": record.exc_class,
            "exc_msg": record.exc_msg,
            "original_topic": record.where.topic,
            "original_event_id": record.event_id,
            "service": self._service_name,
        }
        return [(name, value.encode()) for name, value in values.items()]

    def close(self) -> None:
        try:
            self._producer.flush(FLUSH_TIMEOUT_SECONDS)
        except KafkaException:  # closing: nothing left to report to
            log.warning("dead letter producer did not flush on close")
