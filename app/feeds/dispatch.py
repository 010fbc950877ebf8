"""Handing keys to the workers, after the events are committed."""

from app.dispatch import enqueue

APPLY_KEY_TASK = "feeds.apply_key"


def enqueue_keys(keys: list[tuple[str, str]], countdown: float = 0) -> int:
    """Ask workers to apply the keys' pending events; returns how many were enqueued.

    Keys not enqueued stay safe in the inbox; beat enqueues them again
    (`feeds.requeue_pending`).
    """
    return sum(
        enqueue(APPLY_KEY_TASK, topic, key, countdown=countdown or None) for topic, key in keys
    )
