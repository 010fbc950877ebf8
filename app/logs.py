"""Logging: JSON lines by default, one access line per request, request ids.

Each request gets an id, taken from a well-formed `X-Request-Id` header or
generated, echoed in the response and attached to every log record written
while the request is handled.
"""

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from app.config import Settings

REQUEST_ID_HEADER = "X-Request-Id"
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_log = logging.getLogger("wps.access")
#: The id of a request answered outside Flask (the lean token endpoints).
lean_request_id: ContextVar[str] = ContextVar("lean_request_id", default="-")


_base_record_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs) -> logging.LogRecord:
    record = _base_record_factory(*args, **kwargs)
    record.request_id = g.get("request_id", "-") if has_request_context() else lean_request_id.get()
    return record


def request_id_from(given: str | None) -> str:
    """The client's `X-Request-Id` when well-formed, else a new one."""
    return given if given and _ACCEPTABLE_REQUEST_ID.match(given) else uuid.uuid4().hex


def log_access(method: str, path: str, status: int, elapsed_ms: float) -> None:
    """The one access line of a request. The path only: query strings may carry URL signatures."""
    access_log.info(
        "%s %s %s",
        method,
        path,
        status,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(elapsed_ms, 2),
        },
    )


def configure_logging(settings: Settings) -> None:
    """Route the root logger to stderr in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "wps_handler", False):
            root.removeHandler(existing)
    handler.wps_handler = True
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Every record, whoever handles it, carries the id of the request it belongs to.
    logging.setLogRecordFactory(_record_with_request_id)


def register_request_logging(app: Flask) -> None:
    @app.before_request
    def assign_request_id():
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        elapsed_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        log_access(request.method, request.path, response.status_code, elapsed_ms)
        return response
