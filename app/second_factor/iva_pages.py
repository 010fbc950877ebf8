"""Pages for verification addresses: the person's own, and the stewards' queue."""

from uuid import UUID

from flask import flash, make_response, redirect, render_template, request, url_for

from app.accounts.models import User
from app.errors import DomainError, RequestValidationFailed
from app.extensions import db
from app.ivas import notices, services
from app.ivas.errors import TooManyVerificationAttempts
from app.ivas.models import IvaState, IvaType
from app.second_factor.audit import record
from app.second_factor.pages import NO_STORE, bp
from app.web.session import current_person, person_required, role_required

STEWARD_STATES = {
    "waiting": {IvaState.CODE_REQUESTED, IvaState.CODE_CREATED, IvaState.CODE_TRANSMITTED},
    "verified": {IvaState.VERIFIED},
    "all": None,
}


@bp.get("/verification-addresses")
@person_required
def ivas():
    person = current_person()
    return render_template(
        "second_factor/ivas.html",
        ivas=services.list_for(person.id),
        types=list(IvaType),
        labels=notices.LABELS,
    )


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
    iva = services.add(person.id, type_, value)
    record(person.id, "iva_added", f"user:{person.id}", "web", f"{iva.type} {iva.id}")
    db.session.commit()
    flash(f"Your {notices.label(iva)} was added. Request its verification when ready.", "success")
    return redirect(url_for("second_factor.ivas"))


@bp.post("/verification-addresses/<uuid:iva_id>/request-code")
@person_required
def request_iva_code(iva_id: UUID):
    person = current_person()
    iva = services.request_code(iva_id, person.id)
    record(person.id, "iva_code_requested", f"user:{person.id}", "web", str(iva.id))
    db.session.commit()
    notices.code_requested(iva)
    flash("A data steward will send you a code through this address.", "success")
    return redirect(url_for("second_factor.ivas"))


@bp.post("/verification-addresses/<uuid:iva_id>/verify")
@person_required
def verify_iva_code(iva_id: UUID):
    person = current_person()
    try:
        iva = services.verify_code(iva_id, person.id, request.form.get("code", ""))
    except TooManyVerificationAttempts as refused:
        iva = services.get(iva_id, person.id)
        record(person.id, "iva_reset_after_wrong_codes", f"user:{person.id}", "web", str(iva_id))
        db.session.commit()
        notices.reset_after_attempts(iva)
        flash(refused.detail, "error")
        return redirect(url_for("second_factor.ivas")), 303
    except DomainError as refused:
        db.session.commit()  # the wrong attempt is counted
        flash(refused.detail, "error")
        return redirect(url_for("second_factor.ivas")), 303
    record(person.id, "iva_verified", f"user:{person.id}", "web", str(iva.id))
    db.session.commit()
    notices.verified(iva)
    flash(f"Your {notices.label(iva)} is verified.", "success")
    return redirect(url_for("second_factor.ivas"))


@bp.post("/verification-addresses/<uuid:iva_id>/delete")
@person_required
def delete_iva(iva_id: UUID):
    person = current_person()
    iva = services.remove(iva_id, person.id)
    record(person.id, "iva_deleted", f"user:{person.id}", "web", str(iva_id))
    db.session.commit()
    flash(f"Your {notices.label(iva)} was deleted.", "success")
    return redirect(url_for("second_factor.ivas"))


@bp.get("/steward/verification-addresses")
@role_required("steward", "admin")
def steward_ivas():
    shown = request.args.get("show", "waiting")
    if shown not in STEWARD_STATES:
        shown = "waiting"
    listed = services.listing(STEWARD_STATES[shown])
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
@role_required("steward", "admin")
def steward_create_code(iva_id: UUID):
    steward = current_person()
    iva, code = services.create_code(iva_id, f"user:{steward.id}")
    record(iva.user_id, "iva_code_created", f"user:{steward.id}", "web", str(iva.id))
    db.session.commit()
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
@role_required("steward", "admin")
def steward_code_transmitted(iva_id: UUID):
    steward = current_person()
    iva = services.code_transmitted(iva_id, f"user:{steward.id}")
    record(iva.user_id, "iva_code_transmitted", f"user:{steward.id}", "web", str(iva.id))
    db.session.commit()
    notices.code_transmitted(iva)
    flash("Marked as sent; the person can enter the code now.", "success")
    return redirect(url_for("second_factor.steward_ivas"))


@bp.post("/steward/verification-addresses/<uuid:iva_id>/unverify")
@role_required("steward", "admin")
def steward_unverify(iva_id: UUID):
    steward = current_person()
    iva = services.unverify(iva_id)
    record(iva.user_id, "iva_unverified", f"user:{steward.id}", "web", str(iva.id))
    db.session.commit()
    notices.unverified(iva)
    flash("The address is unverified; downloads bound to it are paused.", "success")
    return redirect(url_for("second_factor.steward_ivas", show=request.args.get("show", "waiting")))
