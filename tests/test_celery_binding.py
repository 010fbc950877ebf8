"""Celery is bound to the app: tasks run in an app context, eagerly or on a worker."""

import subprocess
import sys

import pytest
from celery import shared_task
from celery.contrib.testing.worker import start_worker
from sqlalchemy import func, select

from app import create_app
from app.authz.application_keys import Application
from app.config import SettingsError
from app.extensions import db
from tests.conftest import make_settings
from tests.support.factories import ApplicationKeyFactory
from tests.support.worker_processes import ROOT, worker_environment


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


def test_no_result_backend_unless_one_is_set(instance_path):
    rabbit = "amqp://guest:guest@127.0.0.1:5672//"

    celery = create_app(
        make_settings(instance_path, celery_broker_url=rabbit, celery_always_eager=False)
    ).extensions["celery"]

    assert celery.conf.result_backend is None
    assert type(celery.backend).__name__ == "DisabledBackend"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("celery_result_backend", "amqp://guest:hunter2@127.0.0.1:5672//"),
        ("celery_result_backend", "nosuchbackend://x"),
        ("celery_broker_url", "http://guest:hunter2@127.0.0.1/"),
        ("celery_broker_url", "rpc://"),
    ],
)
def test_a_url_celery_cannot_use_stops_the_app_naming_the_setting(instance_path, setting, value):
    with pytest.raises(SettingsError) as stopped:
        create_app(make_settings(instance_path, **{setting: value}))

    message = str(stopped.value)
    assert message.startswith(f"Invalid setting {setting.upper()}: ")
    assert "\n" not in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "celery", "-A", "workers.main", "worker", "--pool", "solo"],
        ["-m", "celery", "-A", "workers.main", "beat"],
        ["-m", "gunicorn", "run:app", "--bind", "127.0.0.1:0", "--workers", "1"],
    ],
    ids=["worker", "beat", "api"],
)
def test_worker_beat_and_api_refuse_to_start_on_an_unusable_result_backend(instance_path, command):
    env = worker_environment(
        instance_path,
        celery_result_backend="amqp://guest:hunter2@127.0.0.1:5672//",
        log_format="text",
    )

    finished = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    output = finished.stdout + finished.stderr
    assert finished.returncode != 0
    named = [line for line in output.splitlines() if "CELERY_RESULT_BACKEND" in line]
    assert len(named) == 1 and named[0].startswith("Invalid setting CELERY_RESULT_BACKEND")
    assert "hunter2" not in output
    assert "Traceback" not in output
