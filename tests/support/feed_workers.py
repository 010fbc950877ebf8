"""Two real Celery worker processes applying feed events, shared by a test module.

A plugin of tests/conftest.py: a test that takes `workers` gets the API app whose
tasks those processes run, with the queue purged before each test; the settings make
retries and requeues quick.
"""

import pytest
from sqlalchemy import select

from app import create_app
from app.feeds.models import InboxEvent
from tests.conftest import make_settings
from tests.support.worker_processes import worker_processes

FEED_SETTINGS = {
    "event_max_attempts": 3,
    "event_retry_backoff_seconds": 0.05,
    "event_requeue_after_seconds": 0.1,
}


def worker_app(instance_path, **overrides):
    settings = {"celery_always_eager": False} | FEED_SETTINGS | overrides
    return create_app(make_settings(instance_path, **settings))


def statuses(db) -> dict[str, str]:
    """Every inbox event's status, by event id, as committed."""
    db.session.rollback()
    return dict(db.session.execute(select(InboxEvent.event_id, InboxEvent.status)).all())


@pytest.fixture(scope="module")
def running_workers(app, instance_path, tmp_path_factory):
    """Two worker processes consuming the test queue, for the whole module."""
    api = worker_app(instance_path)
    celery = api.extensions["celery"]
    celery.control.purge()
    logs = tmp_path_factory.mktemp("worker-logs")
    with worker_processes(celery, instance_path, count=2, log_dir=logs, **FEED_SETTINGS):
        yield api


@pytest.fixture
def workers(running_workers, db):
    running_workers.extensions["celery"].control.purge()
    return running_workers
