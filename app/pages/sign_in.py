"""Sign-in pages: `/login`, the provider's callback, `/logout`, the account status page."""

import logging
from datetime import UTC, datetime

import requests
from flask import current_app, flash, redirect, render_template, request, session, url_for

from app.accounts.models import UserStatus
from app.authz.sessions import current_person, login_url
from app.errors import ServiceUnavailable
from app.extensions import limiter, limits_checked
from app.identity import development
from app.identity.next_path import HOME, safe_next
from app.identity.provider import PROVIDER_NAME, callback_url, provider, public_url
from app.identity.sign_in import finish_sign_in
from app.second_factor.enrolment import sign_in_fresh
from app.web import web_blueprint
from app.web.blueprints import error_page
from app.web.session import sign_in, sign_out

log = logging.getLogger(__name__)
bp = web_blueprint("identity", __name__)

NEXT_KEY = "sign_in_next"
#: The sign-in was started to prove a fresh provider sign-in (second factor set-up).
FRESH_KEY = "sign_in_fresh"
STATE_PREFIX = f"_state_{PROVIDER_NAME}_"


def _sign_in_limit() -> str:
    return current_app.extensions["settings"].sign_in_rate_limit


@bp.get("/login")
def login():
    """Straight to the provider (or the development sign-in when none is configured)."""
    next_path = safe_next(request.args.get("next"))
    client = provider()
    if client is None:
        if development.available():
            return redirect(url_for("identity.development_sign_in", next=next_path))
        return error_page(
            404,
            "Sign-in is not available here",
            "This service has no identity provider configured for people to sign in with.",
        )
    session[NEXT_KEY] = next_path
    fresh = request.args.get("fresh") == "1"
    session[FRESH_KEY] = fresh
    # authlib keeps each started sign-in's state in the session cookie for an hour;
    # only the newest one is kept, so repeated clicks cannot grow the cookie.
    for key in [k for k in session if k.startswith(STATE_PREFIX)]:
        session.pop(key)
    try:
        return client.authorize_redirect(callback_url(), **_fresh_params(fresh))
    except (requests.RequestException, ValueError) as error:
        # Discovery failed: the provider is down or its document is not JSON.
        log.warning("identity provider discovery failed: %s", type(error).__name__)
        raise ServiceUnavailable(
            "The identity provider cannot be reached; try again in a minute"
        ) from None


@bp.get("/login/callback")
@limits_checked
@limiter.limit(_sign_in_limit)
def callback():
    client = provider()
    if client is None:
        return error_page(404, "Sign-in is not available here", "No identity provider is set.")
    next_path = safe_next(session.get(NEXT_KEY))
    fresh_asked = session.get(FRESH_KEY) is True
    (person, _created, _first_admin), auth_time = finish_sign_in(client)
    sign_in(person, auth_time=auth_time)
    if fresh_asked and not sign_in_fresh():
        # Sending the person back to the provider would only loop.
        flash(
            "Your identity provider did not ask for your password again, so your second "
            "factor cannot be set up now. Sign out here and at your identity provider, sign in "
            "again and set it up within "
            f"{current_app.extensions['settings'].second_factor_enrol_max_age // 60} minutes.",
            "error",
        )
        return _after_sign_in(person, HOME)
    return _after_sign_in(person, next_path)


def _fresh_params(fresh: bool) -> dict:
    """Ask the provider to authenticate the person again, and to say when (`auth_time`)."""
    if not fresh:
        return {}
    return {
        "prompt": "login",
        "max_age": current_app.extensions["settings"].second_factor_enrol_max_age,
    }


def _end_session_endpoint(client) -> str | None:
    try:
        return client.load_server_metadata().get("end_session_endpoint")
    except (requests.RequestException, ValueError):
        return None  # our session is over either way


def _after_sign_in(person, next_path: str):
    if person.status != UserStatus.ACTIVE:
        return redirect(url_for("identity.status"), 303)
    return redirect(next_path, 303)


@bp.post("/logout")
def logout():
    sign_out()
    client = provider()
    if client is not None and _end_session_endpoint(client):
        url = client.create_logout_url(
            post_logout_redirect_uri=public_url(HOME),
            client_id=client.client_id,
        )["url"]
        return redirect(url, 303)
    return redirect(HOME, 303)


@bp.get("/account/status")
def status():
    person = current_person()
    if person is None:
        return redirect(login_url(url_for("identity.status")))
    return render_template("identity/status.html", person=person)


@bp.route("/login/development", methods=["GET", "POST"])
def development_sign_in():
    """Pick an account made with `invoke create-user` (development, no provider)."""
    if not development.available():
        return error_page(404, "Not found", "The development sign-in is off on this server.")
    next_path = safe_next(request.values.get("next"))
    if request.method == "POST":
        person = development.account(request.form.get("account_id", ""))
        # Choosing an account here stands for a provider sign-in just now.
        sign_in(person, auth_time=datetime.now(UTC).timestamp())
        return _after_sign_in(person, next_path)
    return render_template(
        "identity/development.html", accounts=development.accounts(), next_path=next_path
    )
