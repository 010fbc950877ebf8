"""The browser side of the service: sessions, CSRF, security headers, one layout.

Feature packages (identity, portal, second factor) make their blueprints with
`web_blueprint`, which gives them CSRF checks on state-changing requests and
error pages instead of the JSON API's error bodies.
"""

from flask import Flask, g

from app.authz.sessions import current_person
from app.web.blueprints import csrf, web_blueprint
from app.web.navigation import navigation_for
from app.web.security import register_security_headers, session_cookie_config
from app.web_sessions.interface import ServerSessionInterface

__all__ = ["init_web", "web_blueprint"]


def init_web(app: Flask) -> None:
    settings = app.extensions["settings"]
    app.config.update(session_cookie_config(settings))
    app.session_interface = ServerSessionInterface()
    # CSRF is checked by the web blueprints themselves (see blueprints.py): the
    # JSON API authenticates with headers a browser never sends on its own.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # valid for the life of the session
    csrf.init_app(app)
    register_security_headers(app)
    app.before_request(_forget_previous_request)
    app.context_processor(
        lambda: {
            "navigation": navigation_for(),
            "current_person": lambda: current_person(active_only=False),
        }
    )


def _forget_previous_request() -> None:
    # `g` lives as long as the app context; one that outlives a request (tests,
    # eager tasks) must not hand the last request's person or CSRF token on.
    g.pop("person", None)
    g.pop("csrf_token", None)
