"""Fixtures: settings -> app -> db -> factories, on real PostgreSQL and Redis."""

import logging
import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.config import Settings
from app.extensions import db as _db

# Helpers holding fixtures: the real OpenID provider (one process per session), and
# apps signing people in with it. The other helpers in tests/support/ are imported.
pytest_plugins = [
    "tests.support.feed_workers",
    "tests.support.oidc_provider",
    "tests.support.people",
]

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# The Celery broker of the run: Redis, or RabbitMQ in CI's second run of the worker tests.
TEST_BROKER_URL = os.environ.get("TEST_BROKER_URL", TEST_REDIS_URL)


def make_settings(instance_path, **overrides) -> Settings:
    values = {
        "sqlalchemy_database_uri": TEST_DATABASE_URL,
        "instance_path": instance_path,
        "celery_broker_url": TEST_BROKER_URL,
        "celery_always_eager": True,
        "secret_key": "test-secret-key",
        "log_format": "json",
    } | overrides
    return Settings(**values)


class _EverythingLogged(logging.Handler):
    """Keeps every log line of the run, as the configured formatter writes it."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        formatter = next(
            (h.formatter for h in logging.getLogger().handlers if getattr(h, "wps_handler", 0)),
            None,
        )
        self.lines.append((formatter or logging.Formatter()).format(record))


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_logs(tmp_path_factory):
    """After the whole run: no API key, WPAT, WOT, refresh or access token in any log.

    The run's own log records are captured here; the live service's and the worker
    processes' logs are read from their files.
    """
    from tests.support.secrets_seen import SECRETS

    capture = _EverythingLogged()
    logging.getLogger().addHandler(capture)
    yield
    logging.getLogger().removeHandler(capture)
    texts = list(capture.lines)
    for log_file in tmp_path_factory.getbasetemp().rglob("*.log"):
        texts.append(log_file.read_text(errors="replace"))
    leaked = {secret[:12] + "…" for secret in SECRETS for text in texts if secret in text}
    assert not leaked, f"secrets found in logs: {sorted(leaked)}"


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory):
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def settings(instance_path) -> Settings:
    return make_settings(instance_path)


@pytest.fixture(scope="session")
def app(settings):
    app = create_app(settings)
    with app.app_context():
        _reset_schema()
        upgrade()
        _db.session.remove()
    return app


def _reset_schema() -> None:
    with _db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture
def db(app):
    """The database, emptied after the test (workers and servers see commits)."""
    with app.app_context():
        yield _db
        _db.session.rollback()
        _db.session.remove()
        tables = ", ".join(f'"{table.name}"' for table in _db.metadata.sorted_tables)
        with _db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def receivers():
    """A webhook receiver and an SMTP server on 127.0.0.1, for what people are told."""
    from tests.support.receivers import MailReceiver, WebhookReceiver

    webhook, mail = WebhookReceiver(), MailReceiver()
    yield webhook, mail
    webhook.stop()
    mail.stop()


@pytest.fixture
def told_app(db, instance_path, receivers):
    """The service telling people and admins through those receivers."""
    webhook, mail = receivers
    return create_app(
        make_settings(
            instance_path,
            notify_webhook_url=webhook.url,
            smtp_host="127.0.0.1",
            smtp_port=mail.port,
        )
    )


@pytest.fixture
def researcher(app):
    from tests.support.users import Researcher

    return Researcher(app)


@pytest.fixture
def steward_key(db):
    from tests.support.factories import ApplicationKeyFactory

    return {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}


@pytest.fixture
def publisher_key(db):
    from tests.support.factories import ApplicationKeyFactory

    return {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}


def s3_settings(endpoint: str) -> dict:
    return {
        "storage_backend": "s3",
        "s3_endpoint_url": endpoint,
        "s3_bucket": "wps-test-files",
        "s3_access_key_id": "testing",
        "s3_secret_access_key": "testing",
    }


@pytest.fixture(scope="session")
def s3_endpoint():
    """A local S3 endpoint: moto in server mode, on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    from tests.support.live_service import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory):
    """A Kafka-protocol broker (librdkafka's mock cluster) in its own process."""
    from devtools.kafka_mock_broker import mock_broker

    with mock_broker(tmp_path_factory.mktemp("kafka") / "broker.log") as broker:
        yield broker
