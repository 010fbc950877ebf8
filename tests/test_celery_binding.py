"""Celery is bound to the app: tasks run in an app context, eagerly or on a worker."""

import pytest
from celery import shared_task
from celery.contrib.testing.worker import start_worker
from sqlalchemy import func, select

from app import create_app
from app.applications.models import Application
from app.extensions import db
from tests.conftest import make_settings
from tests.factories import ApplicationKeyFactory


@shared_task(name="tests.count_applications")
def count_applications() -> int:
    return db.session.scalar(select(func.count()).select_from(Application))


def test_eager_task_runs_inside_an_app_context(db):
    ApplicationKeyFactory()

    assert count_applications.delay().get() == 1


@pytest.mark.worker
def test_real_worker_on_redis_runs_the_task(db, instance_path):
    from tests.conftest import TEST_REDIS_URL

    worker_app = create_app(
        make_settings(
            instance_path, celery_always_eager=False, celery_result_backend=TEST_REDIS_URL
        )
    )
    celery = worker_app.extensions["celery"]
    ApplicationKeyFactory()
    ApplicationKeyFactory()

    with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = celery.send_task("tests.count_applications", ignore_result=False)
        assert result.get(timeout=20) == 2
