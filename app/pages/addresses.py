"""Pages for verification addresses: the person's own, and the stewards' queue.

Parse the form, call the action (app/ivas/actions.py), render: the actions check,
record, commit and notify.
"""

from uuid import UUID

from flask import flash, make_response, redirect, render_template, request, url_for

from app.accounts.models import User
from app.authz import Permission
from app.authz.pages import page_requires, person_required, web_actor
from app.authz.sessions import current_person
from app.errors import DomainError, RequestValidationFailed
from app.extensions import db
from app.ivas import actions, notices
from app.ivas.errors import InvalidPhoneNumber, IvaLimitReached
from app.ivas.models import IvaState, IvaType
from app.pages.second_factor import NO_STORE, bp

STEWARD_STATES = {
    "waiting": {IvaState.CODE_REQUESTED, IvaState.CODE_CREATED, IvaState.CODE_TRANSMITTED},
    "verified": {IvaState.VERIFIED},
    "all": None,
}


@bp.get("/verification-addresses")
@person_required
def ivas():
    return _ivas_page()


def _ivas_page(error: str | None = None, typed: dict | None = None, status: int = 200):
    """The person's addresses and the form to add one (with its refusal, if any)."""
    page = render_template(
        "second_factor/ivas.html",
        ivas=actions.addresses_of(web_actor(), current_person().id),
        types=list(IvaType),
        labels=notices.LABELS,
        error=error,
        typed=typed or {},
    )
    return page, status


@bp.post("/verification-addresses")
@person_required
def add_iva():
    person = current_person()
    try:
        type_ = IvaType(request.form.get("type", ""))
    except ValueError:
        raise RequestValidationFailed("Choose the kind of address.", code="iva_type") from None
    value = request.form.get("value", "").strip()
    if not value or len(value) > 512:
        raise RequestValidationFailed(
            "Give the number, address or meeting place (at most 512 characters).",
            code="iva_value",
        )
    try:
        iva = actions.add_address(web_actor(), person.id, type_, value)
    except (InvalidPhoneNumber, IvaLimitReached) as refused:  # the form says why, value kept
        db.session.rollback()
        return _ivas_page(refused.detail, {"type": type_.value, "value": value}, refused.status)
    flash(f"Your {notices.label(iva)} was added. Request its verification when ready.", "success")
    return redirect(url_for("second_factor.ivas"))


@bp.post("/verification-addresses/<uuid:iva_id>/request-code")
@person_required
def request_iva_code(iva_id: UUID):
    actions.request_code(web_actor(), iva_id)
    flash("A data steward will send you a code through this address.", "success")
    return redirect(url_for("second_factor.ivas"))


@bp.post("/verification-addresses/<uuid:iva_id>/verify")
@person_required
def verify_iva_code(iva_id: UUID):
    try:
        iva = actions.verify(web_actor(), iva_id, request.form.get("code", ""))
    except DomainError as refused:  # wrong (counted), the last one or expired (address reset)
        flash(refused.detail, "error")
        return redirect(url_for("second_factor.ivas")), 303
    flash(f"Your {notices.label(iva)} is verified.", "success")
    return redirect(url_for("second_factor.ivas"))


@bp.post("/verification-addresses/<uuid:iva_id>/delete")
@person_required
def delete_iva(iva_id: UUID):
    iva = actions.delete_address(web_actor(), current_person().id, iva_id)
    flash(f"Your {notices.label(iva)} was deleted.", "success")
    return redirect(url_for("second_factor.ivas"))


@bp.get("/steward/verification-addresses")
@page_requires(Permission.DATA_STEWARD)
def steward_ivas():
    shown = request.args.get("show", "waiting")
    if shown not in STEWARD_STATES:
        shown = "waiting"
    listed = actions.steward_queue(web_actor(), STEWARD_STATES[shown])
    ids = {iva.user_id for iva in listed}
    people = {p.id: p for p in db.session.query(User).filter(User.id.in_(ids))} if ids else {}
    return render_template(
        "second_factor/steward_ivas.html",
        ivas=listed,
        people=people,
        shown=shown,
        labels=notices.LABELS,
    )


@bp.post("/steward/verification-addresses/<uuid:iva_id>/create-code")
@page_requires(Permission.DATA_STEWARD)
def steward_create_code(iva_id: UUID):
    iva, code = actions.create_code(web_actor(), iva_id)
    page = render_template(
        "second_factor/code_once.html",
        iva=iva,
        # Not `person`: the layout already names the signed-in person so.
        owner=db.session.get(User, iva.user_id),
        code=code,
        label=notices.label(iva),
    )
    return make_response(page, 200, NO_STORE)


@bp.post("/steward/verification-addresses/<uuid:iva_id>/transmitted")
@page_requires(Permission.DATA_STEWARD)
def steward_code_transmitted(iva_id: UUID):
    actions.mark_code_transmitted(web_actor(), iva_id)
    flash("Marked as sent; the person can enter the code now.", "success")
    return redirect(url_for("second_factor.steward_ivas"))


@bp.post("/steward/verification-addresses/<uuid:iva_id>/unverify")
@page_requires(Permission.DATA_STEWARD)
def steward_unverify(iva_id: UUID):
    actions.unverify(web_actor(), iva_id)
    flash("The address is unverified; downloads bound to it are paused.", "success")
    return redirect(url_for("second_factor.steward_ivas", show=request.args.get("show", "waiting")))
