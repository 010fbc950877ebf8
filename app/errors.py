"""Domain errors and the one JSON error shape every failure leaves through.

Every error body is `{"detail": ..., "code": ...}`: `detail` is a message, or
for validation errors the list of `{loc, msg, type}`; `code` is stable and
meant for machines.
"""

import logging
import re

from flask import Flask, current_app, has_request_context, jsonify, request
from pydantic import ValidationError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.extensions import db
from roles import RolesError

log = logging.getLogger(__name__)


class DomainError(Exception):
    """An expected failure with an HTTP status and a stable machine code."""

    status = 400
    code = "bad_request"

    def __init__(self, detail=None, *, code: str | None = None):
        detail = self.default_detail() if detail is None else detail
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code

    @classmethod
    def default_detail(cls) -> str:
        return cls.__doc__.strip().splitlines()[0] if cls.__doc__ else cls.code

    def body(self) -> dict:
        return {"detail": self.detail, "code": self.code}

    def headers(self) -> dict:
        return {}


class NotFound(DomainError):
    """The resource does not exist."""

    status, code = 404, "not_found"


class Conflict(DomainError):
    """The request conflicts with the current state."""

    status, code = 409, "conflict"


class Unauthorized(DomainError):
    """Authentication is required."""

    status, code = 401, "unauthorized"

    def headers(self) -> dict:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(DomainError):
    """Not allowed."""

    status, code = 403, "forbidden"


class RequestValidationFailed(DomainError):
    """The request is not valid."""

    status, code = 422, "validation_error"

    @classmethod
    def from_pydantic(cls, error: ValidationError, location: str):
        return cls([_field_error(item, location) for item in error.errors()])


class ServiceUnavailable(DomainError):
    """A service this one depends on is unavailable; retry later."""

    status, code = 503, "service_unavailable"


def _field_error(item: dict, location: str) -> dict:
    loc = [location, *item["loc"]] if location else list(item["loc"])
    return {"loc": loc, "msg": item["msg"], "type": item["type"]}


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


#: Where `app.extensions` keeps the rooms whose errors take another shape (ADR 28).
ERROR_SHAPES = "error_shapes"


def register_error_shape(app: Flask, path_prefix: str, render) -> None:
    """Errors of requests under `path_prefix` leave as `render(status, detail, code)`
    (a dict) instead of `{detail, code}`: for a protocol whose clients parse its own
    error body (GA4GH DRS: `{msg, status_code}`)."""
    app.extensions.setdefault(ERROR_SHAPES, []).append((path_prefix, render))


def _other_shape(status: int, detail, code: str):
    shapes = current_app.extensions.get(ERROR_SHAPES, ()) if has_request_context() else ()
    for prefix, render in shapes:
        if request.path == prefix or request.path.startswith(prefix + "/"):
            return render(status, detail, code)
    return None


def error_response(status: int, detail, code: str, headers: dict | None = None):
    shaped = _other_shape(status, detail, code)
    response = jsonify(shaped if shaped is not None else {"detail": detail, "code": code})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def unavailable_database(error: BaseException) -> bool:
    """The database is down or went away: a retryable 503, not a 500. A 500 that Flask
    made of what finalizing a response raised (writing the session) counts by its cause."""
    cause = getattr(error, "original_exception", None) or error
    return isinstance(cause, OperationalError) or (
        isinstance(cause, DBAPIError) and cause.connection_invalidated
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        shaped = _other_shape(error.status, error.detail, error.code)
        response = jsonify(shaped if shaped is not None else error.body())
        response.status_code = error.status
        response.headers.extend(error.headers())
        return response

    @app.errorhandler(RolesError)
    def roles_error(error: RolesError):
        return error_response(error.status, error.detail, error.code)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 500 and unavailable_database(error):
            return database_unavailable(error.original_exception)
        headers = {}
        if error.code == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return error_response(error.code or 500, error.description, _snake(error.name), headers)

    @app.errorhandler(OperationalError)
    def database_unavailable(error: DBAPIError):
        log.error("database unavailable: %s", error.orig.__class__.__name__)
        _discard_session()
        return error_response(
            503, "The database is unavailable; retry later", "database_unavailable"
        )

    @app.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError):
        # Invariants live in the database; a concurrent writer can win the race
        # that the service's own checks lost.
        log.warning("integrity error: %s", error.orig.__class__.__name__)
        _discard_session()
        return error_response(
            409, "The request conflicts with data stored meanwhile; retry", "conflict"
        )

    @app.errorhandler(DataError)
    def unstorable_value(error: DataError):
        # Request rules refuse such values first; this keeps one they missed a 4xx.
        log.warning("the database refused a value: %s", error.orig.__class__.__name__)
        _discard_session()
        return error_response(
            422, "A value is outside what the database can store", "unstorable_value"
        )

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return database_unavailable(error)
        log.exception("unexpected error")
        _discard_session()
        return error_response(500, "Internal server error", "internal_error")


def _discard_session() -> None:
    db.session.rollback()


def body_limit(setting: str):
    """Give an endpoint the body limit named by `setting` instead of MAX_CONTENT_LENGTH."""

    def decorator(view):
        view.max_body_setting = setting
        return view

    return decorator


def register_body_limit(app: Flask) -> None:
    """413 for a body over the limit: at once when declared, while read when chunked."""

    @app.before_request
    def refuse_oversized_body():
        view = app.view_functions.get(request.endpoint)
        setting = getattr(view, "max_body_setting", None)
        if setting:
            request.max_content_length = getattr(app.extensions["settings"], setting)
        limit = request.max_content_length
        if limit is None:
            return
        if request.content_length is None:
            # Werkzeug stops a chunked body at the limit without saying so, and the
            # truncated body would fail as invalid instead; one byte more tells.
            request.environ["wsgi.input"] = _BoundedInput(request.environ["wsgi.input"], limit)
            request.max_content_length = limit + 1
        elif request.content_length > limit:
            raise RequestEntityTooLarge(f"The request body exceeds {limit} bytes")


class _BoundedInput:
    """A request body stream that raises 413 once more than `limit` bytes were read."""

    def __init__(self, stream, limit: int):
        self._stream, self._limit, self._count = stream, limit, 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._count += len(data)
        if self._count > self._limit:
            raise RequestEntityTooLarge(f"The request body exceeds {self._limit} bytes")
        return data
