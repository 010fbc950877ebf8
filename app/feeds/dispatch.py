"""Handing keys to the workers, after the events are committed."""

from flask import current_app

from app.dispatch import enqueue

APPLY_KEYS_TASK = "feeds.apply_keys"


def enqueue_keys(keys: list[tuple[str, str]], countdown: float = 0) -> int:
    """Ask workers to apply the keys' pending events, `EVENT_APPLY_KEYS_PER_TASK` keys
    to a task (so a batch's keys spread over the worker processes); returns how many
    keys were enqueued.

    Keys not enqueued stay safe in the inbox; beat enqueues them again
    (`feeds.requeue_pending`).
    """
    keys = [list(key) for key in dict.fromkeys(tuple(key) for key in keys)]
    per_task = current_app.extensions["settings"].event_apply_keys_per_task
    enqueued = 0
    for start in range(0, len(keys), per_task):
        chunk = keys[start : start + per_task]
        if enqueue(APPLY_KEYS_TASK, chunk, countdown=countdown or None):
            enqueued += len(chunk)
    return enqueued
