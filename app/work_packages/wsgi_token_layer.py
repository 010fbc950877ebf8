"""The two work order token routes, answered in front of Flask by a lean WSGI layer.

A client asks for one token per file operation and again every 30 s, so these
routes carry most of the service's requests. Flask's per-request machinery
(request and application contexts, the URL map, every extension's before and
after hooks) cost more than the token itself (docs/adr/0016). This layer
matches exactly `POST .../files/<accession>/work-order-tokens` and `POST
.../boxes/<box_id>/work-order-tokens` and answers them with the same bodies,
headers, error shape, access line, request id, CORS headers, metrics and trace
spans as Flask would. Every other request, and any token request it does not
take plainly (a chunked or oversized body), goes on to Flask unchanged; the
Flask routes stay registered for those and for the OpenAPI document.
"""

import logging
import re
import time
from collections.abc import Callable, Iterable

from flask import Flask, current_app
from flask_cors.core import get_cors_headers, get_cors_options
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.datastructures import EnvironHeaders

from app.cors import cors_options
from app.database.dedicated_connections import CONNECTION_LOST, DedicatedConnections
from app.errors import DomainError
from app.extensions import db
from app.logs import REQUEST_ID_HEADER, lean_request_id, log_access, request_id_from
from app.metrics import work_order_token_counter
from app.work_packages.token_issuance import TOKEN_CACHE_CONTROL, TokenIssuer

log = logging.getLogger(__name__)

_DOWNLOAD = re.compile(r"/work-packages/([^/]+)/files/([^/]+)/work-order-tokens")
_UPLOAD = re.compile(r"/work-packages/([^/]+)/boxes/([^/]+)/work-order-tokens")
_ROUTES = {
    "download": (
        "work_packages.create_download_token",
        "/work-packages/<work_package_id>/files/<accession>/work-order-tokens",
    ),
    "upload": (
        "work_packages.create_upload_token",
        "/work-packages/<work_package_id>/boxes/<box_id>/work-order-tokens",
    ),
}


def token_issuer() -> TokenIssuer:
    return current_app.extensions["token_issuer"]


def install_token_endpoints(app: Flask) -> None:
    """Put the lean token endpoints in front of the app (after everything else is set up)."""
    issuer = TokenIssuer(
        app.extensions["token_keys"],
        app.extensions["access_policy"],
        work_order_token_counter(app.extensions["metrics"]),
    )
    app.extensions["token_issuer"] = issuer
    provider = app.extensions.get("tracer_provider")
    tracer = provider.get_tracer(__name__) if provider else None
    with app.app_context():
        connections = DedicatedConnections(db.engine, tracer)
    app.wsgi_app = TokenEndpoints(app, app.wsgi_app, issuer, connections, tracer)


class TokenEndpoints:
    def __init__(self, app: Flask, flask_app: Callable, issuer: TokenIssuer, connections, tracer):
        #: The Flask application behind this layer, which answers everything else.
        self.behind = flask_app
        self._tracer = tracer
        self._issuer = issuer
        self._connections: DedicatedConnections = connections
        self._json = app.json
        self._max_body = app.config["MAX_CONTENT_LENGTH"]
        self._metrics = app.extensions["metrics"]
        options = cors_options(app.extensions["settings"])
        self._cors = get_cors_options(app, options) if options else None

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        route = self._route(environ)
        if route is None or not self._plain_body(environ):
            return self.behind(environ, start_response)
        return self._answer(environ, start_response, *route)

    @staticmethod
    def _route(environ: dict) -> tuple | None:
        if environ.get("REQUEST_METHOD") != "POST":
            return None
        # WSGI hands the path as latin-1; Werkzeug decodes it as UTF-8 the same way.
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        match = _DOWNLOAD.fullmatch(path)
        if match:
            return "download", path, match.group(1), match.group(2)
        match = _UPLOAD.fullmatch(path)
        if match:
            return "upload", path, match.group(1), match.group(2)
        return None

    def _plain_body(self, environ: dict) -> bool:
        """A body of declared length within the limit; Flask answers anything else."""
        if environ.get("HTTP_TRANSFER_ENCODING"):
            return False
        length = environ.get("CONTENT_LENGTH")
        if not length:
            return True
        try:
            size = int(length)
        except ValueError:
            return False
        return size >= 0 and (self._max_body is None or size <= self._max_body)

    def _answer(self, environ, start_response, kind, path, package_id, target) -> list[bytes]:
        started = time.perf_counter()
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        context = lean_request_id.set(request_id)
        try:
            if self._tracer is None:
                status, headers, body = self._issue(environ, kind, package_id, target)
            else:
                status, headers, body = self._traced_issue(environ, kind, package_id, target)
            headers.append((REQUEST_ID_HEADER, request_id))
            # What app.web.security adds to every Flask response.
            headers.append(("X-Content-Type-Options", "nosniff"))
            if self._cors is not None and "HTTP_ORIGIN" in environ:
                headers.extend(
                    get_cors_headers(self._cors, EnvironHeaders(environ), "POST").items()
                )
            start_response(status, headers)
            elapsed = time.perf_counter() - started
            code = int(status[:3])
            log_access("POST", path, code, elapsed * 1000)
            if self._metrics is not None:
                self._metrics.observe(_ROUTES[kind][0], "POST", code, elapsed)
            return [body]
        finally:
            lean_request_id.reset(context)

    def _traced_issue(self, environ: dict, kind: str, package_id: str, target: str):
        """`_issue` in a server span, named and described as the Flask instrumentation does."""
        from opentelemetry import propagate
        from opentelemetry.instrumentation.wsgi import (
            add_response_attributes,
            collect_request_attributes,
            wsgi_getter,
        )
        from opentelemetry.trace import SpanKind

        template = _ROUTES[kind][1]
        with self._tracer.start_as_current_span(
            f"POST {template}",
            kind=SpanKind.SERVER,
            context=propagate.extract(environ, getter=wsgi_getter),
            attributes={**collect_request_attributes(environ), "http.route": template},
        ) as span:
            status, headers, body = self._issue(environ, kind, package_id, target)
            add_response_attributes(span, status, headers)
            return status, headers, body

    def _issue(self, environ: dict, kind: str, package_id: str, target: str):
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        run = self._connections.first
        try:
            if kind == "download":
                sealed = self._issuer.download(run, authorization, package_id, target)
            else:
                sealed = self._issuer.upload(
                    run, authorization, package_id, target, _read_body(environ)
                )
        except DomainError as error:
            return self._error(error.status, error.body(), error.headers())
        except Exception as error:
            if _database_unavailable(error):
                log.error("database unavailable: %s", _cause(error).__class__.__name__)
                return self._error(
                    503,
                    {
                        "detail": "The database is unavailable; retry later",
                        "code": "database_unavailable",
                    },
                )
            log.exception("unexpected error")
            return self._error(500, {"detail": "Internal server error", "code": "internal_error"})
        # The sealed token is base64: as a JSON string it needs no escaping.
        body = f'"{sealed}"'.encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", TOKEN_CACHE_CONTROL),
        ]
        return "201 CREATED", headers, body

    def _error(self, status: int, body: dict, extra_headers: dict | None = None):
        """The one error shape, serialised exactly as the Flask error handlers do."""
        response = self._json.response(body)
        response.status_code = status
        headers = [(name, value) for name, value in response.headers.items()]
        headers.extend((extra_headers or {}).items())
        return response.status, headers, response.get_data()


def _read_body(environ: dict) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def _cause(error: Exception) -> Exception:
    return error.orig if isinstance(error, DBAPIError) else error


def _database_unavailable(error: Exception) -> bool:
    """What the Flask error handlers answer with 503 (plus the bare driver's errors)."""
    if isinstance(error, (*CONNECTION_LOST, OperationalError)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated
