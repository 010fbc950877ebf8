"""Gauges read from the database and the broker when Prometheus scrapes."""

import logging

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

log = logging.getLogger(__name__)


class StateCollector:
    def __init__(self, app):
        self.app = app

    def collect(self):
        from app.extensions import db
        from app.feeds.models import InboxEvent
        from app.jobs.models import Job

        with self.app.app_context():
            events = GaugeMetricFamily(
                "wps_inbox_events", "Inbox events by status", labels=["status"]
            )
            for status, count in db.session.execute(
                select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
            ):
                events.add_metric([status], count)
            jobs = GaugeMetricFamily("wps_jobs", "Jobs by status", labels=["status"])
            for status, count in db.session.execute(
                select(Job.status, func.count()).group_by(Job.status)
            ):
                jobs.add_metric([status], count)
            db.session.remove()
            yield events
            yield jobs
            depth = self._queue_depth()
            if depth is not None:
                yield GaugeMetricFamily(
                    "wps_celery_queue_depth", "Tasks waiting in the broker", value=depth
                )

    def _queue_depth(self) -> int | None:
        broker = self.app.extensions["settings"].celery_broker_url or ""
        if not broker.startswith(("redis://", "rediss://")):
            return None
        import redis

        try:
            client = redis.Redis.from_url(broker, socket_timeout=1)
            return client.llen("celery")
        except redis.RedisError:
            log.warning("celery queue depth unavailable: broker unreachable")
            return None
