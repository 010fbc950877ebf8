"""Applying inbox events, one key at a time, and the inbox's housekeeping."""

import logging
from datetime import timedelta

from celery import shared_task
from flask import current_app

from app.database import utc_now
from app.extensions import db
from app.feeds import services
from app.feeds.dispatch import enqueue_keys

log = logging.getLogger(__name__)

# Bounds one task's run on a busy key; the rest is picked up by the next task.
MAX_EVENTS_PER_RUN = 1000


@shared_task(name="feeds.apply_key", bind=True, soft_time_limit=240, time_limit=300)
def apply_key(self, topic: str, key: str) -> str:
    """Apply the key's pending events in order until it is idle, held, or must wait."""
    for _ in range(MAX_EVENTS_PER_RUN):
        try:
            step = services.apply_next_event(topic, key)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("applying %s/%s failed; beat will requeue the key", topic, key)
            return "error"
        if step.kind in ("applied", "skipped"):
            continue
        if step.kind in ("retry", "wait") and not self.app.conf.task_always_eager:
            # Eager mode cannot wait: the next event of the key, a replay or
            # `invoke requeue-events` picks the key up again.
            enqueue_keys([(topic, key)], countdown=max(step.delay, 0.05))
        return step.kind
    enqueue_keys([(topic, key)])
    return "continued"


@shared_task(name="feeds.requeue_pending", soft_time_limit=60, time_limit=90)
def requeue_pending() -> int:
    """Enqueue keys whose pending events have waited too long (lost or unsent messages)."""
    settings = current_app.extensions["settings"]
    keys = services.keys_waiting(
        utc_now() - timedelta(seconds=settings.event_requeue_after_seconds)
    )
    db.session.rollback()
    return enqueue_keys(keys)


@shared_task(name="feeds.purge_finished", soft_time_limit=240, time_limit=300)
def purge_finished() -> int:
    settings = current_app.extensions["settings"]
    purged = services.purge_finished(utc_now() - timedelta(days=settings.event_retention_days))
    db.session.commit()
    log.info("purged %d finished events", purged)
    return purged
