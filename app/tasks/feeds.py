"""Applying inbox events, a batch of keys per task, and the inbox's housekeeping."""

import logging
from datetime import timedelta

from celery import shared_task
from flask import current_app

from app.database import utc_now
from app.extensions import db
from app.feeds import batches, services
from app.feeds.dispatch import enqueue_keys

log = logging.getLogger(__name__)

# A key another worker holds is looked at again this soon (it may have missed
# events that arrived after it read the key's).
BUSY_RETRY_SECONDS = 0.25


@shared_task(name="feeds.apply_keys", bind=True, soft_time_limit=240, time_limit=300)
def apply_keys(self, keys: list[list[str]]) -> dict:
    """Apply the keys' pending events in one transaction (`feeds.batches`)."""
    try:
        report = batches.apply_keys([(topic, key) for topic, key in keys])
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("applying %d key(s) failed; beat will requeue them", len(keys))
        return {"error": len(keys)}
    if report.unfinished:
        enqueue_keys(report.unfinished)
    if not self.app.conf.task_always_eager:
        # Eager mode cannot wait: the next event of the key, a replay or
        # `invoke requeue-events` picks the key up again.
        if report.busy:
            enqueue_keys(report.busy, countdown=BUSY_RETRY_SECONDS)
        for delay, waiting in _by_delay(report.waiting).items():
            enqueue_keys(waiting, countdown=delay)
    return {
        "applied": report.applied,
        "skipped": report.skipped,
        "failed": report.failed,
        "busy": len(report.busy),
        "one_by_one": report.one_by_one,
    }


@shared_task(name="feeds.apply_key", soft_time_limit=240, time_limit=300)
def apply_key(topic: str, key: str) -> dict:
    """One key (tasks queued before batches: still understood after an upgrade)."""
    return apply_keys([[topic, key]])


def _by_delay(waiting: list[tuple[tuple[str, str], float]]) -> dict[float, list]:
    """Keys grouped by when to look again (to a tenth of a second, at least 0.05 s)."""
    groups: dict[float, list] = {}
    for key, delay in dict(waiting).items():
        groups.setdefault(max(round(delay, 1), 0.05), []).append(key)
    return groups


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
