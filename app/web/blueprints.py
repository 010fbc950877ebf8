"""Blueprints for pages: CSRF on every state-changing request, errors as pages."""

import logging

from flask import Blueprint, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from app.errors import DomainError, _discard_session
from roles import RolesError

log = logging.getLogger(__name__)

csrf = CSRFProtect()

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def web_blueprint(name: str, import_name: str, **options) -> Blueprint:
    """A blueprint whose views are pages, not JSON API endpoints."""
    bp = Blueprint(name, import_name, **options)

    @bp.before_request
    def check_csrf():
        if request.method in UNSAFE_METHODS:
            csrf.protect()

    bp.register_error_handler(CSRFError, _csrf_failed)
    bp.register_error_handler(DomainError, _domain_error)
    bp.register_error_handler(RolesError, _domain_error)
    bp.register_error_handler(HTTPException, _http_error)
    return bp


def error_page(status: int, title: str, message: str):
    return render_template("error.html", status=status, title=title, message=message), status


def _csrf_failed(error: CSRFError):
    return error_page(
        400,
        "The form has expired",
        "This form was not sent with a valid security token, so nothing was changed. "
        "Go back, reload the page and try again.",
    )


def _domain_error(error):
    _discard_session()
    titles = {401: "Sign-in needed", 403: "Not allowed", 404: "Not found", 409: "Conflict"}
    return error_page(error.status, titles.get(error.status, "Request refused"), error.detail)


def _http_error(error: HTTPException):
    return error_page(error.code or 500, error.name, error.description or error.name)
