"""Kafka settings by WPS 10's names: what reaches the client library, and start-up refusals."""

import datetime
import json
from pathlib import Path

import pytest
import yaml
from confluent_kafka import Consumer, KafkaException, Producer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.config import load_settings
from app.kafka.client_config import consumer_config, producer_config
from tests.support.secrets_seen import remember
from tests.test_cli import ROOT, invoke

KEY_PASSWORD = remember("kafka-client-key-password-" + "7f3a9c")


def test_consume_events_without_kafka_servers_exits_with_one_line(instance_path):
    result = invoke("consume-events", instance_path=instance_path)

    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "KAFKA_SERVERS" in result.stderr and "JSON list" in result.stderr


def test_settings_are_read_by_the_wps_names(monkeypatch):
    environment = {
        "KAFKA_SERVERS": '["kafka-1:9092", "kafka-2:9092"]',
        "SERVICE_NAME": "wps",
        "SERVICE_INSTANCE_ID": "wps-eu-1",
        "KAFKA_MAX_MESSAGE_SIZE": "2097152",
        "KAFKA_MAX_RETRIES": "3",
        "KAFKA_RETRY_BACKOFF": "2",
        "KAFKA_ENABLE_DLQ": "true",
        "KAFKA_DLQ_TOPIC": "wps-dlq",
        "KAFKA_COMPRESSION_TYPE": "zstd",
        "GENERATE_CORRELATION_ID": "false",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    settings = load_settings()
    consumer, producer = consumer_config(settings), producer_config(settings)

    assert settings.kafka_max_retries == 3 and settings.kafka_retry_backoff == 2
    assert settings.kafka_enable_dlq and settings.kafka_dlq_topic == "wps-dlq"
    assert settings.generate_correlation_id is False
    assert consumer["bootstrap.servers"] == "kafka-1:9092,kafka-2:9092"
    assert consumer["group.id"] == "wps"
    assert consumer["client.id"] == producer["client.id"] == "wps.wps-eu-1"
    assert consumer["enable.auto.commit"] is False
    assert consumer["max.partition.fetch.bytes"] == 2097152
    assert producer["compression.type"] == "zstd"
    assert consumer["security.protocol"] == "plaintext"
    assert not any(name.startswith("ssl.") for name in consumer)
    Consumer(consumer).close()  # librdkafka accepts every property


def test_a_servers_list_that_is_not_json_is_refused_naming_the_setting(monkeypatch):
    monkeypatch.setenv("KAFKA_SERVERS", '["kafka:9092"')

    with pytest.raises(SystemExit, match=r"^Invalid setting KAFKA_SERVERS: .*JSON list"):
        load_settings()


def _certificate(subject: str, key, issuer_name, issuer_key, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def client_certificate(tmp_path_factory) -> dict[str, Path]:
    """A CA, a client certificate it signed, and the client key encrypted with a password."""
    folder = tmp_path_factory.mktemp("kafka-ssl")
    ca_key, client_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Kafka CA")])
    ca = _certificate("Test Kafka CA", ca_key, ca_name, ca_key, ca=True)
    client = _certificate("wps", client_key, ca_name, ca_key, ca=False)
    files = {name: folder / f"{name}.pem" for name in ("ca", "cert", "key")}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(client.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(
        client_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
        )
    )
    return files


def _ssl_settings(monkeypatch, files: dict[str, Path], password: str):
    monkeypatch.setenv("KAFKA_SERVERS", json.dumps(["kafka:9093"]))
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(files["ca"]))
    monkeypatch.setenv("KAFKA_SSL_CERTFILE", str(files["cert"]))
    monkeypatch.setenv("KAFKA_SSL_KEYFILE", str(files["key"]))
    monkeypatch.setenv("KAFKA_SSL_PASSWORD", password)
    return load_settings()


def test_ssl_hands_ca_certificate_key_and_password_to_the_client(monkeypatch, client_certificate):
    settings = _ssl_settings(monkeypatch, client_certificate, KEY_PASSWORD)
    config = consumer_config(settings)

    assert config["security.protocol"] == "ssl"
    assert config["ssl.ca.location"] == str(client_certificate["ca"])
    assert config["ssl.certificate.location"] == str(client_certificate["cert"])
    assert config["ssl.key.location"] == str(client_certificate["key"])
    assert config["ssl.key.password"] == KEY_PASSWORD
    assert "KAFKA_SSL_PASSWORD" not in repr(settings) and KEY_PASSWORD not in repr(settings)
    # librdkafka loads the CA, the certificate and the encrypted key when the client
    # is made: these succeed only if all four reached it.
    Consumer(config).close()
    Producer(producer_config(settings)).flush(0)


def test_a_wrong_key_password_stops_the_client_at_once(monkeypatch, client_certificate):
    settings = _ssl_settings(monkeypatch, client_certificate, "not-the-password")

    with pytest.raises(KafkaException, match=r"(?i)key"):
        Consumer(consumer_config(settings))


def test_the_compose_file_runs_a_consumer_in_the_service_group():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    consumer = compose["services"]["consumer"]
    environment = consumer["environment"]

    assert consumer["command"] == "invoke consume-events"
    assert json.loads(environment["KAFKA_SERVERS"]) == ["kafka:9092"]
    assert environment["SERVICE_NAME"] == "wps"
    assert (
        environment["SQLALCHEMY_DATABASE_URI"]
        == compose["services"]["api"]["environment"]["SQLALCHEMY_DATABASE_URI"]
    )
    assert {"kafka", "postgres", "redis"} <= set(consumer["depends_on"])
    assert consumer["restart"] == "unless-stopped"  # it exits when the database stays down
    assert "kafka" in compose["services"]
