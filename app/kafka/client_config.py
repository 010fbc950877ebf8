"""librdkafka (confluent-kafka) settings built from ours, named as in WPS 10 / hexkit."""

import socket

from app.config import Settings

# librdkafka's default is 45 s; a consumer killed without leaving its group holds
# its partitions this long before the others take them over.
SESSION_TIMEOUT_MS = 10_000
# librdkafka's defaults for a whole fetch and for one response; both must stay above
# the largest message.
_FETCH_MAX_BYTES = 52_428_800
_RECEIVE_MAX_BYTES = 100_000_000


def client_id(settings: Settings) -> str:
    """`SERVICE_NAME.SERVICE_INSTANCE_ID`, as hexkit names its clients."""
    return f"{settings.service_name}.{settings.service_instance_id or socket.gethostname()}"


def consumer_config(settings: Settings) -> dict:
    """A consumer in group `SERVICE_NAME` that commits offsets only when told to."""
    fetch_max = max(_FETCH_MAX_BYTES, settings.kafka_max_message_size)
    return _connection(settings) | {
        "group.id": settings.service_name,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": SESSION_TIMEOUT_MS,
        "max.partition.fetch.bytes": settings.kafka_max_message_size,
        "fetch.max.bytes": fetch_max,
        "receive.message.max.bytes": max(_RECEIVE_MAX_BYTES, fetch_max + 512),
    }


def producer_config(settings: Settings) -> dict:
    """The producer of the dead letter topic."""
    return _connection(settings) | {
        "acks": "all",
        "enable.idempotence": True,
        "compression.type": settings.kafka_compression_type or "none",
        "message.max.bytes": max(settings.kafka_max_message_size, 1000),
    }


def _connection(settings: Settings) -> dict:
    config = {
        "bootstrap.servers": ",".join(settings.kafka_servers),
        "client.id": client_id(settings),
        "security.protocol": settings.kafka_security_protocol.lower(),
    }
    if settings.kafka_security_protocol == "SSL":
        optional = {
            "ssl.ca.location": settings.kafka_ssl_cafile,
            "ssl.certificate.location": settings.kafka_ssl_certfile,
            "ssl.key.location": settings.kafka_ssl_keyfile,
            "ssl.key.password": settings.kafka_ssl_password.get_secret_value(),
        }
        config |= {name: value for name, value in optional.items() if value}
    return config
