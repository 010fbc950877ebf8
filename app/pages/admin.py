"""Admins' pages: operations (maintenance, jobs, dead events) and keys and tokens;
and the dead feed events page, which stewards use too (`/steward/events`).

`/admin/users` (accounts and their audit list) belongs to the identity feature.
"""

from datetime import UTC, datetime, time

from flask import flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from app.accounts import actions as account_actions
from app.applications import actions as application_actions
from app.applications.services import list_applications
from app.authz import Permission
from app.authz.pages import fully_authenticated, page_requires, web_actor
from app.errors import DomainError
from app.extensions import db
from app.feeds import actions as feed_actions
from app.feeds import services as feeds
from app.feeds.models import EventStatus
from app.feeds.schemas import EventQuery
from app.jobs import actions as job_actions
from app.jobs import maintenance
from app.jobs import services as jobs
from app.pages import bp
from app.pages.forms import (
    ApplicationKeyForm,
    MaintenanceForm,
    ReissueTokenForm,
)
from app.pages.paging import Pager
from app.pages.people import signed_in
from app.pages.profile import api_token_page
from app.pages.secrets import shows_secret
from roles import ApplicationNameTaken


def _dead_events(pager: Pager):
    query = EventQuery(status=EventStatus.DEAD, skip=pager.skip, limit=pager.per_page)
    return pager.fill(feeds.list_events(query))


@bp.get("/admin/operations")
@page_requires(Permission.ADMIN)
def admin_operations(maintenance_form: MaintenanceForm | None = None, status: int = 200):
    jobs_pager = Pager.from_request(per_page=20, arg="jobs_page")
    events_pager = Pager.from_request(per_page=20, arg="events_page")
    state = maintenance.current()
    dead = _dead_events(events_pager)
    page = render_template(
        "portal/admin_operations.html",
        maintenance=state,
        maintenance_form=maintenance_form
        # The current state preselected: Save with what is shown changes only the message.
        or MaintenanceForm(formdata=None, paused="pause" if state.paused else "resume"),
        jobs=jobs_pager.fill(jobs.recent_jobs(jobs_pager.skip, jobs_pager.per_page)),
        jobs_pager=jobs_pager,
        dead_events=dead,
        events_pager=events_pager,
    )
    return page, status


@bp.post("/admin/maintenance")
@page_requires(Permission.ADMIN)
@fully_authenticated
def set_maintenance():
    form = MaintenanceForm()
    if not form.validate():
        return admin_operations(maintenance_form=form, status=422)
    paused = form.paused.data == "pause"
    job_actions.set_maintenance(web_actor(signed_in()), form.msg.data, paused)
    flash("Jobs are paused: new jobs are refused." if paused else "Jobs run again.")
    return redirect(url_for("portal.admin_operations"))


@bp.get("/steward/events")
@page_requires(Permission.DATA_STEWARD)  # dead events: stewards' too (ADR 0023)
def dead_events():
    pager = Pager.from_request(per_page=20, arg="events_page")
    return render_template(
        "portal/dead_events.html", dead_events=_dead_events(pager), events_pager=pager
    )


@bp.post("/admin/events/<event_id>/<any(replay, discard):action>")
@page_requires(Permission.DATA_STEWARD)  # dead events: stewards' too (ADR 0023)
@fully_authenticated
def settle_event(event_id: str, action: str):
    settle = feed_actions.replay_event if action == "replay" else feed_actions.discard_event
    event = settle(web_actor(signed_in()), event_id)
    done = "will be applied again" if action == "replay" else "was discarded"
    flash(f"Event {event.event_id} {done}; later events of its key flow again.")
    return redirect(_back_from_events())


def _back_from_events() -> str:
    # Back to the page the form was on (admins' forms were on Operations before
    # stewards had a page); only admins may see the operations page.
    if request.args.get("back") != "events" and web_actor().entitled_to(Permission.ADMIN):
        return url_for("portal.admin_operations")
    return url_for("portal.dead_events")


@bp.get("/admin/keys")
@page_requires(Permission.ADMIN)
def admin_keys(key_form=None, reissue_form=None, status: int = 200):
    page = render_template(
        "portal/admin_keys.html",
        applications=list_applications(include_revoked=True),
        key_form=key_form or _key_form(formdata=None),
        reissue_form=reissue_form or ReissueTokenForm(formdata=None),
        now=datetime.now(UTC),
    )
    return page, status


def _key_form(**options) -> ApplicationKeyForm:
    form = ApplicationKeyForm(**options)
    form.permissions.choices = [SelectChoice(p.name) for p in Permission]
    return form


@bp.post("/admin/applications")
@page_requires(Permission.ADMIN)
@fully_authenticated
def create_application():
    form = _key_form()
    if not form.validate():
        return admin_keys(key_form=form, status=422)
    expires = datetime.combine(form.expires.data, time.min, UTC) if form.expires.data else None
    try:
        issued = application_actions.create_application_key(
            web_actor(signed_in()), form.name.data, form.permissions.data, expires
        )
    except ApplicationNameTaken:
        db.session.rollback()
        form.name.errors = [
            *form.name.errors,
            f"{form.name.data.strip()} already has a live key; revoke it first.",
        ]
        return admin_keys(key_form=form, status=409)
    except ValueError as error:
        form.name.errors = [*form.name.errors, str(error).capitalize() + "."]
        return admin_keys(key_form=form, status=422)
    return shows_secret(
        render_template(
            "portal/application_key_created.html", application=issued.application, key=issued.key
        )
    )


@bp.post("/admin/applications/<path:name>/revoke")
@page_requires(Permission.ADMIN)
@fully_authenticated
def revoke_application(name: str):
    revoked = application_actions.revoke_application_key(web_actor(signed_in()), name)
    if revoked:
        flash(f"The key of {name} was revoked.")
    else:
        flash(f"{name} has no live key.", "error")
    return redirect(url_for("portal.admin_keys"))


@bp.post("/admin/api-tokens")
@page_requires(Permission.ADMIN)
@fully_authenticated
def reissue_api_token():
    form = ReissueTokenForm()
    if not form.validate():
        return admin_keys(reissue_form=form, status=422)
    try:
        person, token = account_actions.reissue_api_token(web_actor(signed_in()), form.account.data)
    except DomainError as error:
        db.session.rollback()
        form.account.errors = [*form.account.errors, str(error.detail)]
        return admin_keys(reissue_form=form, status=error.status)
    return api_token_page(token, person, by_admin=True)
