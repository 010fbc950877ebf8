"""Prometheus metrics: requests per endpoint, tokens issued, and state read at scrape time."""

import os
import time
from collections.abc import Callable

from flask import Flask, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)


class Metrics:
    def __init__(self, state: Callable[[Flask], object] | None = None):
        #: Builds the collector of gauges read at scrape time (the health room's).
        self.state = state
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "wps_http_requests", "HTTP requests answered", ["endpoint", "method", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "wps_http_request_duration_seconds", "Time to answer, by endpoint",
            ["endpoint", "method"], registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )  # fmt: skip
        self.work_order_tokens = Counter(
            "wps_work_order_tokens_issued", "Work order tokens issued", ["work_type"],
            registry=self.registry,
        )  # fmt: skip

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint, method).observe(seconds)

    def count_work_order_token(self, work_type: str) -> None:
        self.work_order_tokens.labels(work_type).inc()

    def exposition(self, app: Flask) -> bytes:
        """This process's (or, with PROMETHEUS_MULTIPROC_DIR, all workers') metrics and state."""
        counted = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            counted = CollectorRegistry()
            multiprocess.MultiProcessCollector(counted)
        exposition = generate_latest(counted)
        if self.state is not None:
            state = CollectorRegistry()
            state.register(self.state(app))
            exposition += generate_latest(state)
        return exposition


def register_metrics(app: Flask, state: Callable[[Flask], object] | None = None) -> None:
    """Count requests and tokens; `state` adds gauges read when Prometheus scrapes."""
    if not app.extensions["settings"].metrics_enabled:
        app.extensions["metrics"] = None
        return
    metrics = Metrics(state)
    app.extensions["metrics"] = metrics

    @app.before_request
    def start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def count(response):
        endpoint = request.endpoint or "unmatched"
        metrics.requests.labels(endpoint, request.method, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            metrics.latency.labels(endpoint, request.method).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def serve_metrics():
        return metrics.exposition(app), 200, {"Content-Type": CONTENT_TYPE_LATEST}


def work_order_token_counter(metrics: Metrics | None) -> Callable[[str], None]:
    """What counts issued work order tokens: the metric, or nothing when metrics are off."""
    return metrics.count_work_order_token if metrics is not None else lambda work_type: None
