"""The Kafka consumer process (`invoke consume-events`): GHGA's topics into the inbox.

The consuming itself is app.kafka.consumer.InboxConsumer; this is the process
around it: the app, the Kafka clients, and stopping on SIGTERM/SIGINT.
"""

import logging
import signal
import threading

from confluent_kafka import Consumer, Producer

from app import create_app
from app.config import Settings, SettingsError
from app.kafka.client_config import consumer_config, producer_config
from app.kafka.consumer import InboxConsumer
from app.kafka.dead_letters import DeadLetterPublisher

log = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "consume-events needs KAFKA_SERVERS, a JSON list of Kafka bootstrap servers, "
    "e.g. KAFKA_SERVERS='[\"kafka:9092\"]' (and SERVICE_NAME, SERVICE_INSTANCE_ID)"
)


def consume_events(settings: Settings, stop: threading.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `stop`); SettingsError without KAFKA_SERVERS."""
    if not settings.kafka_servers:
        raise SettingsError(NOT_CONFIGURED)
    app = create_app(settings)
    stop = stop or _stop_on_signals()
    dead_letters = None
    if settings.kafka_enable_dlq:
        producer = Producer(producer_config(settings))
        dead_letters = DeadLetterPublisher(
            producer, settings.kafka_dlq_topic, settings.service_name
        )
    InboxConsumer(app, Consumer(consumer_config(settings)), dead_letters).run(stop)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def request_stop(number, frame) -> None:
        log.info("signal %s: finishing the batch in hand, then leaving the group", number)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop
