"""Celery bound to a Flask app: every task runs inside an application context."""

from celery import Celery, Task
from flask import Flask

TASK_MODULES: list[str] = []


def celery_init_app(app: Flask) -> Celery:
    settings = app.extensions["settings"]

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask, include=TASK_MODULES)
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
        broker_transport_options={"max_retries": 1, "interval_start": 0},
        task_ignore_result=True,
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
