"""Blueprints for pages: CSRF on every state-changing request, errors as pages."""

import contextlib
import logging

from flask import Blueprint, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.authz.errors import SecondFactorRequired
from app.errors import DomainError, _discard_session, unavailable_database
from app.rest.storable_text import UNSTORABLE
from roles import RolesError

log = logging.getLogger(__name__)

csrf = CSRFProtect()

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_page_blueprint(blueprint: Blueprint) -> bool:
    return getattr(blueprint, "serves_pages", False)


def web_blueprint(name: str, import_name: str, **options) -> Blueprint:
    """A blueprint whose views are pages, not JSON API endpoints."""
    bp = Blueprint(name, import_name, **options)
    bp.serves_pages = True

    @bp.before_request
    def check_csrf():
        if request.method in UNSAFE_METHODS:
            csrf.protect()
        if _holds_unstorable_text():
            return error_page(
                422,
                "Text that cannot be stored",
                "A field holds a NUL character or a broken character the database cannot "
                "store, so nothing was changed. Remove it and send the form again.",
            )

    bp.register_error_handler(CSRFError, _csrf_failed)
    bp.register_error_handler(DomainError, _domain_error)
    bp.register_error_handler(RolesError, _domain_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(OperationalError, _database_unavailable)
    return bp


def _holds_unstorable_text() -> bool:
    """The JSON API's rule (app.rest.storable_text) for what forms and query strings send."""
    values = (*request.args.values(), *request.view_args.values())
    if request.method in UNSAFE_METHODS:
        values = (*values, *request.form.values())
    return any(isinstance(value, str) and UNSTORABLE.search(value) for value in values)


def error_page(status: int, title: str, message: str, **context):
    page = render_template("error.html", status=status, title=title, message=message, **context)
    return page, status


def _csrf_failed(error: CSRFError):
    return error_page(
        400,
        "The form has expired",
        "This form was not sent with a valid security token, so nothing was changed. "
        "Go back, reload the page and try again.",
    )


def _domain_error(error):
    _discard_session()
    if isinstance(error, SecondFactorRequired):
        # A form sent without the factor: the way to it, and back to the form's page.
        return error_page(
            error.status, "Your second factor first", error.detail, back=_referring_path()
        )
    titles = {401: "Sign-in needed", 403: "Not allowed", 404: "Not found", 409: "Conflict"}
    return error_page(error.status, titles.get(error.status, "Request refused"), error.detail)


def _referring_path() -> str:
    """The path (with query) of the page a refused form was sent from, on this site only."""
    referrer = request.referrer or ""
    root = request.host_url.rstrip("/")
    if not referrer.startswith(root + "/") or referrer.startswith(root + "//"):
        return "/"
    return referrer.removeprefix(root)


def _http_error(error: HTTPException):
    if error.code == 500 and unavailable_database(error):
        return _database_unavailable(error)
    return error_page(error.code or 500, error.name, error.description or error.name)


def _database_unavailable(error: Exception):
    """The database went away (a restart, a failover): nothing was changed, and the
    same click a moment later works."""
    log.error("database unavailable while serving a page: %s", type(error).__name__)
    with contextlib.suppress(Exception):  # a connection that is gone cannot roll back
        _discard_session()
    return error_page(
        503,
        "Briefly unavailable",
        "The service could not reach its database, so nothing was changed. Try again in a minute.",
    )
