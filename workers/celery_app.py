"""Celery bound to a Flask app: every task runs inside an application context."""

import importlib

from celery import Celery, Task
from flask import Flask

TASK_MODULES = [
    "workers.tasks.feeds",
    "workers.tasks.jobs",
    "workers.tasks.notifications",
    "workers.tasks.transfer",
    "workers.tasks.work_packages",
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
    celery.conf.update(
        broker_url=broker,
        result_backend=settings.celery_result_backend or settings.celery_broker_url,
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
    }
