"""Pages: set up the TOTP second factor, pass it in a session, recovery codes.

The verification address pages (addresses.py) and the notice (security_notices.py) are on
the same blueprint.
"""

from uuid import UUID

import segno
from flask import flash, make_response, redirect, render_template, request, url_for

from app.authz import Permission
from app.authz.levels import mark_second_factor_passed
from app.authz.pages import page_requires, person_required, web_actor
from app.authz.sessions import current_person
from app.errors import DomainError
from app.identity.next_path import safe_next
from app.second_factor import actions, enrolment, totp
from app.web import web_blueprint
from app.web.session import sign_in

bp = web_blueprint("second_factor", __name__)
NO_STORE = {"Cache-Control": "no-store"}


def next_path() -> str:
    """`next=` when it is a path on this site, else `/`: the one rule of next_path."""
    return safe_next(request.values.get("next"))


def onward() -> str | None:
    """`next=` to carry on to another page, None for the start page (a plain URL)."""
    going = next_path()
    return None if going == "/" else going


@bp.route("/second-factor/setup", methods=["GET", "POST"])
@person_required
def setup():
    person = current_person()
    if not enrolment.sign_in_fresh():
        # Whoever holds a phished provider session must not set up a factor with it
        # long after the sign-in: the provider asks for the password again first.
        back = url_for("second_factor.setup", next=onward())
        return redirect(url_for("identity.login", next=back, fresh=1))
    error = None
    if request.method == "POST":
        try:
            done = actions.set_up(
                web_actor(person),
                person,
                enrolment.waiting_secret(person.id),
                request.form.get("code", ""),
                request.form.get("current_code"),
            )
        except DomainError as refused:
            error = refused.detail
        else:
            enrolment.finish()
            # Replacing a factor ends every session (credentials.cut_off); the person
            # who did it goes on in a new one, as after a sign-in.
            # The provider's sign-in time carries over: the new session is no fresher.
            sign_in(person, **enrolment.provider_sign_in_time())
            mark_second_factor_passed()
            page = render_template(
                "second_factor/recovery_codes.html", codes=done.recovery_codes, next=next_path()
            )
            return make_response(page, 200, NO_STORE)
    started = enrolment.start(person)
    qr = segno.make(started.uri, error="m").svg_inline(
        scale=5, border=2, title="QR code for your authenticator app", light="#fff"
    )
    page = render_template(
        "second_factor/setup.html", enrolment=started, qr=qr, error=error, next=next_path()
    )
    return make_response(page, 422 if error else 200, NO_STORE)


@bp.route("/second-factor/verify", methods=["GET", "POST"])
@person_required
def verify():
    person = current_person()
    if not totp.is_enrolled(person.id):
        return redirect(url_for("second_factor.setup", next=onward()))
    error = None
    if request.method == "POST":
        try:
            actions.pass_factor(web_actor(person), person, request.form.get("code", ""))
        except DomainError as refused:
            error = refused.detail
        else:
            mark_second_factor_passed()
            return redirect(next_path())
    page = render_template(
        "second_factor/verify.html",
        error=error,
        next=next_path(),
        recovery_left=totp.unused_recovery_codes(person.id),
    )
    status = 429 if error and "locked" in error else 422 if error else 200
    return page, status


@bp.post("/admin/people/<uuid:user_id>/reset-second-factor")
@page_requires(Permission.ADMIN)
def admin_reset(user_id: UUID):
    """A person who lost phone and recovery codes: their TOTP and addresses go."""
    try:
        actions.reset(web_actor(), user_id)
    except actions.NoFactorToReset:
        flash("This person has no second factor to reset.", "error")
    else:
        flash(
            "The second factor was reset and the person's sessions and API tokens ended; "
            "they set up a new one at the next sign-in, and their verification addresses "
            "must be verified again.",
            "success",
        )
    return redirect(url_for("admin.users"))


# Register their views on bp.
from app.pages import addresses, security_notices  # noqa: E402,F401
