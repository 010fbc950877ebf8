"""Data stewards' pages: access requests, grants, datasets and upload boxes."""

from datetime import UTC, datetime
from uuid import UUID

from flask import flash, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from app.access import actions as access
from app.access.requests import services as access_requests
from app.access.requests.schemas import AccessRequestQuery, Decision, RequestStatus
from app.access.schemas import GrantQuery
from app.access.services import list_grants
from app.accounts.queries import emails_of, people_labelled
from app.accounts.services import find_account
from app.authz import Permission
from app.authz.pages import fully_authenticated, page_requires, web_actor
from app.catalog import services as catalog
from app.errors import RequestValidationFailed
from app.extensions import db
from app.ivas import services as ivas
from app.ivas.errors import IvaNotUsable
from app.ivas.models import IvaState
from app.ivas.notices import label
from app.pages import bp
from app.pages.forms import DecisionForm, DenialForm, GrantFilterForm, day_start
from app.pages.paging import Pager
from app.pages.people import signed_in
from app.transfer.services import box_uploads, upload_state_counts


def _uuid(raw: str, what: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"No {what} has the id {raw!r}.") from None


@bp.get("/steward/access-requests")
@page_requires(Permission.DATA_STEWARD)
def steward_requests(forms: dict | None = None, status: int = 200):
    shown = request.args.get("status", RequestStatus.PENDING.value)
    if shown not in {s.value for s in RequestStatus} | {"all"}:
        shown = RequestStatus.PENDING.value
    pager = Pager.from_request(per_page=20)
    query = AccessRequestQuery(
        status=None if shown == "all" else shown, skip=pager.skip, limit=pager.per_page
    )
    items = pager.fill(access_requests.listing(query))
    forms = forms or {}
    decisions = {
        item.id: forms.get(item.id) or _decision_form(item)
        for item in items
        if item.status == RequestStatus.PENDING
    }
    page = render_template(
        "portal/steward_requests.html",
        access_requests=items,
        acted_by=people_labelled(item.decided_by for item in items),
        decisions=decisions,
        denial=DenialForm(formdata=None),
        pager=pager,
        shown=shown,
        statuses=["pending", "allowed", "denied", "all"],
    )
    return page, status


def _decision_form(item) -> DecisionForm:
    addresses = ivas.list_for(item.user_id) if item.kind == "download" else []
    verified = [iva for iva in addresses if iva.state == IvaState.VERIFIED]
    form = DecisionForm(
        formdata=None,
        prefix=str(item.id),  # one form per request on the page: ids stay unique
        valid_from=item.wished_from.date() if item.wished_from else None,
        valid_until=item.wished_until.date() if item.wished_until else None,
        iva_id=str(verified[0].id) if verified else None,
    )
    _offer_addresses(form, addresses)
    return form


def _offer_addresses(form: DecisionForm, addresses) -> None:
    # Binding to an address not yet verified is allowed (as GHGA does); the page says so.
    form.any_verified = any(iva.state == IvaState.VERIFIED for iva in addresses)
    form.iva_id.choices = [
        (str(iva.id), f"{label(iva).capitalize()}: {iva.value} ({iva.state.replace('_', ' ')})")
        for iva in addresses
    ]


@bp.post("/steward/access-requests/<request_id>/allow")
@page_requires(Permission.DATA_STEWARD)
@fully_authenticated
def allow_request(request_id: str):
    ident = _uuid(request_id, "access request")
    form = DecisionForm(prefix=str(ident))
    if not form.validate():
        return steward_requests(forms={ident: _with_addresses(form, ident)}, status=422)
    decision = Decision(
        note=form.note.data or None,
        valid_from=day_start(form.valid_from.data),
        valid_until=day_start(form.valid_until.data),
        iva_id=_uuid_or_none(form.iva_id.data),
    )
    try:
        decided = access.allow_request(web_actor(signed_in()), ident, decision)
    except IvaNotUsable as refused:
        db.session.rollback()
        form.iva_id.errors = [_sentence(_first_message(refused))]
        return steward_requests(forms={ident: _with_addresses(form, ident)}, status=refused.status)
    except RequestValidationFailed as error:
        db.session.rollback()
        for problem in error.detail:
            field = getattr(form, str(problem["loc"][-1]), None)
            (field.errors.append if field else form.form_errors.append)(_sentence(problem["msg"]))
        return steward_requests(forms={ident: _with_addresses(form, ident)}, status=422)
    target = decided.dataset_accession or f"upload box {decided.upload_box_id}"
    flash(f"Allowed: {decided.user_email} now has {decided.kind} access to {target}.")
    return redirect(url_for("portal.steward_requests"))


def _sentence(message: str) -> str:
    """A message of its own, never run into a field's label: capital first, full stop last."""
    message = message.strip().removeprefix("Value error, ")
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


@bp.post("/steward/access-requests/<request_id>/ask-for-address")
@page_requires(Permission.DATA_STEWARD)
@fully_authenticated
def ask_for_address(request_id: str):
    ident = _uuid(request_id, "access request")
    decided = access.ask_for_address(web_actor(signed_in()), ident)
    flash(
        f"{decided.user_email} was asked to add a verification address: their start page "
        "says so (and an e-mail, when this service sends e-mail). Their request stays here "
        "until then.",
        "success",
    )
    return redirect(url_for("portal.steward_requests"))


def _with_addresses(form: DecisionForm, request_id: UUID) -> DecisionForm:
    requester = access_requests.requester_of(request_id)
    _offer_addresses(form, ivas.list_for(requester) if requester else [])
    return form


def _uuid_or_none(raw: str | None) -> UUID | None:
    try:
        return UUID(raw) if raw else None
    except ValueError:
        return None


def _first_message(error) -> str:
    detail = error.detail
    return detail[0]["msg"] if isinstance(detail, list) else str(detail)


@bp.post("/steward/access-requests/<request_id>/deny")
@page_requires(Permission.DATA_STEWARD)
@fully_authenticated
def deny_request(request_id: str):
    form = DenialForm()
    if not form.validate():
        flash("The note is too long (at most 4000 characters); nothing was decided.", "error")
        return redirect(url_for("portal.steward_requests"))
    decided = access.deny_request(
        web_actor(signed_in()),
        _uuid(request_id, "access request"),
        Decision(note=form.note.data or None),
    )
    flash(f"Denied the request of {decided.user_email}.")
    return redirect(url_for("portal.steward_requests"))


@bp.get("/steward/grants")
@page_requires(Permission.DATA_STEWARD)
def steward_grants():
    filters = GrantFilterForm(request.args)
    filters.validate()
    person = None
    if filters.person.data and not filters.person.errors:
        person = find_account(filters.person.data)
    include_inactive = request.args.get("include_inactive") == "on"
    pager = Pager.from_request(per_page=25)
    grants = pager.fill(
        list_grants(
            GrantQuery(
                user_id=person.id if person else None,
                dataset_id=(filters.dataset.data or "").strip() or None,
                include_inactive=include_inactive,
                skip=pager.skip,
                limit=pager.per_page,
            )
        )
    )
    return render_template(
        "portal/steward_grants.html",
        grants=grants,
        emails=emails_of(g.user_id for g in grants),
        acted_by=people_labelled(g.granted_by for g in grants),
        filters=filters,
        include_inactive=include_inactive,
        pager=pager,
        now=datetime.now(UTC),
    )


@bp.post("/steward/grants/<grant_id>/revoke")
@page_requires(Permission.DATA_STEWARD)
@fully_authenticated
def revoke(grant_id: str):
    revoked = access.revoke_grant(web_actor(signed_in()), _uuid(grant_id, "grant"))
    flash(f"Revoked the grant {revoked.id}; its work packages stop working at once.")
    return redirect(url_for("portal.steward_grants"))


@bp.get("/steward/catalog")
@page_requires(Permission.DATA_STEWARD)
def steward_catalog():
    datasets_pager = Pager.from_request(per_page=20, arg="datasets_page")
    boxes_pager = Pager.from_request(per_page=20, arg="boxes_page")
    datasets = datasets_pager.fill(
        catalog.search_datasets("", datasets_pager.skip, datasets_pager.per_page)
    )
    boxes = boxes_pager.fill(catalog.list_upload_boxes(boxes_pager.skip, boxes_pager.per_page))
    return render_template(
        "portal/steward_catalog.html",
        datasets=datasets,
        file_counts=catalog.file_counts([d.accession for d in datasets]),
        datasets_pager=datasets_pager,
        boxes=boxes,
        upload_counts=upload_state_counts([b.file_upload_box_id for b in boxes]),
        boxes_pager=boxes_pager,
    )


@bp.get("/steward/upload-boxes/<box_id>")
@page_requires(Permission.DATA_STEWARD)
def steward_box(box_id: str):
    box = catalog.get_upload_box(_uuid(box_id, "upload box"))
    pager = Pager.from_request(per_page=50)
    uploads = pager.fill(box_uploads(box, pager.skip, pager.per_page))
    grants = list_grants(GrantQuery(box_id=box.id, limit=100))[0]
    return render_template(
        "portal/steward_box.html",
        box=box,
        uploads=uploads,
        pager=pager,
        grants=grants,
        emails=emails_of(g.user_id for g in grants),
        acted_by=people_labelled(g.granted_by for g in grants),
    )
