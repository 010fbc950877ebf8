"""Celery bound to a Flask app: every task runs inside an application context."""

import importlib

from celery import Celery, Task
from celery.app.backends import by_url
from flask import Flask
from kombu.transport import get_transport_cls

from app.config import SettingsError

TASK_MODULES = [
    "app.tasks.drs",
    "app.tasks.feeds",
    "app.tasks.jobs",
    "app.tasks.notifications",
    "app.tasks.transfer",
    "app.tasks.web_sessions",
    "app.tasks.work_packages",
]


def celery_init_app(app: Flask) -> Celery:
    settings = app.extensions["settings"]

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask, include=TASK_MODULES)
    # Registered here too (not only by workers), so the API process can enqueue
    # them and run them eagerly in the embedded default.
    for module in TASK_MODULES:
        importlib.import_module(module)
    broker = settings.celery_broker_url or "memory://"
    _refuse_unusable(broker, settings.celery_result_backend)
    celery.conf.update(
        broker_url=broker,
        # No task result is read, so none is stored unless a backend is asked for (a
        # broker URL is no backend: Celery has none for amqp://).
        result_backend=settings.celery_result_backend,
        task_always_eager=settings.eager_tasks,
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=600,
        task_soft_time_limit=540,
        broker_connection_retry_on_startup=True,
        # Publishing must not hang a request when the broker is down.
        broker_transport_options={
            "max_retries": 1,
            "interval_start": 0,
            "visibility_timeout": settings.celery_visibility_timeout,
            # Look for tasks of vanished workers every few seconds (a cheap sorted-set
            # read), so that a short visibility timeout takes effect promptly.
            "unacked_restore_interval": min(10, max(1, settings.celery_visibility_timeout // 4)),
            "unacked_restore_throttle": 1,
        },
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        task_ignore_result=True,
        beat_schedule=beat_schedule(settings),
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def _refuse_unusable(broker: str, result_backend: str | None) -> None:
    """Stop start-up (API, worker and beat alike) on a URL Celery cannot use.

    The message names the setting and never echoes the URL, which may hold a password.
    """
    scheme = broker.split("://", 1)[0].split("+", 1)[0] if "://" in broker else ""
    try:
        get_transport_cls(scheme)
    except (KeyError, ImportError, ValueError) as error:
        raise SettingsError(
            f"Invalid setting CELERY_BROKER_URL: Celery has no usable broker transport "
            f"{scheme or '(none)'}:// ({_first_line(error)})"
        ) from None
    if result_backend is None:
        return
    try:
        by_url(result_backend)
    except Exception as error:  # unknown alias, module or missing library
        raise SettingsError(
            "Invalid setting CELERY_RESULT_BACKEND: Celery cannot use it as a result "
            f"backend ({_first_line(error)}); leave it unset unless results are read"
        ) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def beat_schedule(settings) -> dict:
    return {
        "requeue-pending-events": {
            "task": "feeds.requeue_pending",
            "schedule": settings.event_requeue_after_seconds,
        },
        "purge-finished-events": {"task": "feeds.purge_finished", "schedule": 3600.0},
        "requeue-queued-jobs": {"task": "jobs.requeue_queued", "schedule": 60.0},
        "requeue-waiting-verifications": {
            "task": "transfer.requeue_verifications",
            "schedule": 60.0,
        },
        "sweep-expired-work-packages": {
            "task": "work_packages.sweep_expired",
            "schedule": 3600.0,
        },
        "sweep-expired-web-sessions": {"task": "web_sessions.sweep_expired", "schedule": 600.0},
    }
