"""Handing keys to the workers, after the events are committed."""

import logging

from flask import current_app

log = logging.getLogger(__name__)

APPLY_KEY_TASK = "feeds.apply_key"


def enqueue_keys(keys: list[tuple[str, str]], countdown: float = 0) -> int:
    """Ask workers to apply the keys' pending events; returns how many were enqueued.

    A broker that is down does not fail the caller: the events are safe in the
    inbox and beat enqueues them again (`feeds.requeue_pending`).
    """
    task = current_app.extensions["celery"].tasks[APPLY_KEY_TASK]
    enqueued = 0
    for topic, key in keys:
        try:
            task.apply_async((topic, key), countdown=countdown or None, retry=False)
            enqueued += 1
        except Exception as error:  # the broker's client raises its own errors
            log.warning(
                "could not enqueue %s/%s (%s); beat will requeue it",
                topic,
                key,
                error.__class__.__name__,
            )
    return enqueued
