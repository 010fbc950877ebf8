"""Handing work to the Celery workers after the request's commit."""

import logging

from flask import current_app

log = logging.getLogger(__name__)


def enqueue(task_name: str, *arguments, countdown: float | None = None) -> bool:
    """Queue a task by name (eagerly run in the embedded default); False if it could not be.

    A broker that is down never fails the caller: what the task would do is safe in
    the database, and beat's sweeps enqueue it again.
    """
    task = current_app.extensions["celery"].tasks[task_name]
    try:
        task.apply_async(arguments, countdown=countdown, retry=False)
    except Exception as error:  # the broker's client raises its own errors
        log.warning("could not enqueue %s (%s)", task_name, type(error).__name__)
        return False
    return True
