"""`/profile`: who the person is here, their browser sessions and their API tokens."""

from uuid import UUID

from flask import current_app, flash, redirect, render_template, url_for
from werkzeug.exceptions import NotFound

from app.accounts import actions, api_tokens
from app.authz.levels import second_factor_passed_at, session_fully_authenticated
from app.authz.pages import fully_authenticated, person_required, web_actor
from app.errors import DomainError
from app.identity.next_path import HOME
from app.pages import bp
from app.pages.forms import Crypt4ghKeyForm
from app.pages.people import signed_in
from app.pages.secrets import shows_secret
from app.second_factor import totp
from app.web.session import sign_out
from app.web_sessions.services import live_sessions


@bp.get("/profile")
@person_required
def profile(key_form: Crypt4ghKeyForm | None = None, status: int = 200):
    person = signed_in()
    settings = current_app.extensions["settings"]
    page = render_template(
        "portal/profile.html",
        key_form=key_form or Crypt4ghKeyForm(),
        person=person,
        role=person.role,
        tokens=api_tokens.live_tokens(person.id),
        sessions=live_sessions(person.id),
        idle_minutes=settings.session_idle_timeout // 60,
        max_hours=f"{settings.session_max_age / 3600:g}",
        factor={
            "enrolled": totp.is_enrolled(person.id),
            "passed_at": second_factor_passed_at(),
            "passed_now": session_fully_authenticated(),
            "required": settings.require_second_factor,
            "recovery_left": totp.unused_recovery_codes(person.id),
        },
    )
    return page, status


@bp.post("/profile/crypt4gh-key")
@fully_authenticated
def set_crypt4gh_key_page():
    """The key DRS downloads are sealed to: after the second factor, since whoever sets it
    reads what the person's Passports and tokens fetch."""
    person = signed_in()
    form = Crypt4ghKeyForm()
    if form.validate():
        try:
            actions.set_crypt4gh_key(web_actor(person), person, form.public_key.data)
        except DomainError as error:
            form.form_errors.append(error.detail)
        else:
            flash("Your Crypt4GH public key was saved.", "success")
            return redirect(url_for("portal.profile") + "#crypt4gh-key", 303)
    return profile(key_form=form, status=422)


@bp.post("/profile/sign-out-everywhere")
@person_required
def sign_out_everywhere_page():
    """Needs no second factor: someone who lost it must still be able to lock a thief out."""
    person = signed_in()
    done = actions.sign_out_everywhere(web_actor(person), person)
    sign_out()
    flash(
        f"You were signed out everywhere: {_counted(done.sessions, 'browser session')} "
        f"ended and {_counted(done.api_tokens, 'API token')} revoked. Sign in again to "
        "continue.",
        "success",
    )
    return redirect(HOME, 303)


def _counted(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


@bp.post("/profile/api-tokens")
@fully_authenticated
def create_api_token():
    person = signed_in()
    token = actions.create_api_token(web_actor(person), person)
    return api_token_page(token, person, by_admin=False)


def api_token_page(token: str, person, by_admin: bool):
    """The one page that ever shows this refresh token."""
    settings = current_app.extensions["settings"]
    return shows_secret(
        render_template(
            "portal/api_token_created.html",
            token=token,
            for_person=person,
            by_admin=by_admin,
            days=settings.refresh_token_days,
            # The person's own tokens are made after the second factor: they have an age limit.
            max_days=None if by_admin else f"{settings.mfa_token_family_max_age / 86400:g}",
            base_url=str(settings.public_base_url).rstrip("/"),
        )
    )


@bp.post("/profile/api-tokens/<family_id>/revoke")
@fully_authenticated
def revoke_api_token(family_id: str):
    person = signed_in()
    try:
        family = UUID(family_id)
    except ValueError:
        raise NotFound("No such API token of yours.") from None
    actions.revoke_api_token(web_actor(person), family)
    flash("The API token was revoked; it can no longer be traded for access tokens.", "success")
    return redirect(url_for("portal.profile"))
