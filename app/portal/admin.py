"""Admins' pages: operations (maintenance, jobs, dead events) and keys and tokens.

`/admin/users` (accounts and their audit list) belongs to the identity feature.
"""

from datetime import UTC, datetime, time

from flask import flash, redirect, render_template, url_for
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from app.accounts import actions as account_actions
from app.applications.permissions import Permission
from app.applications.services import (
    create_application_key,
    list_applications,
    revoke_application_key,
)
from app.errors import DomainError
from app.extensions import db
from app.feeds import services as feeds
from app.feeds.dispatch import enqueue_keys
from app.feeds.models import EventStatus
from app.feeds.schemas import EventQuery
from app.jobs import maintenance
from app.jobs import services as jobs
from app.jobs.dispatch import enqueue_jobs
from app.portal import bp
from app.portal.forms import (
    ApplicationKeyForm,
    MaintenanceForm,
    ReissueTokenForm,
)
from app.portal.paging import Pager
from app.portal.people import actor, signed_in, web_actor
from app.portal.profile import api_token_page
from app.portal.secrets import shows_secret
from app.web.session import fully_authenticated, role_required
from roles import ApplicationNameTaken

ADMINS = ("admin",)


@bp.get("/admin/operations")
@role_required(*ADMINS)
def admin_operations(maintenance_form: MaintenanceForm | None = None, status: int = 200):
    jobs_pager = Pager.from_request(per_page=20, arg="jobs_page")
    events_pager = Pager.from_request(per_page=20, arg="events_page")
    state = maintenance.current()
    dead = events_pager.fill(
        feeds.list_events(
            EventQuery(status=EventStatus.DEAD, skip=events_pager.skip, limit=events_pager.per_page)
        )
    )
    page = render_template(
        "portal/admin_operations.html",
        maintenance=state,
        maintenance_form=maintenance_form
        or MaintenanceForm(formdata=None, paused="resume" if state.paused else "pause"),
        jobs=jobs_pager.fill(jobs.recent_jobs(jobs_pager.skip, jobs_pager.per_page)),
        jobs_pager=jobs_pager,
        dead_events=dead,
        events_pager=events_pager,
    )
    return page, status


@bp.post("/admin/maintenance")
@role_required(*ADMINS)
@fully_authenticated
def set_maintenance():
    form = MaintenanceForm()
    if not form.validate():
        return admin_operations(maintenance_form=form, status=422)
    paused = form.paused.data == "pause"
    maintenance.change(form.msg.data, paused, actor(signed_in()))
    db.session.commit()
    if not paused:
        enqueue_jobs(jobs.queued_job_ids())
    flash("Jobs are paused: new jobs are refused." if paused else "Jobs run again.")
    return redirect(url_for("portal.admin_operations"))


@bp.post("/admin/events/<event_id>/<any(replay, discard):action>")
@role_required(*ADMINS)
@fully_authenticated
def settle_event(event_id: str, action: str):
    event = feeds.replay(event_id) if action == "replay" else feeds.discard(event_id)
    db.session.commit()
    enqueue_keys([(event.topic, event.key)])
    done = "will be applied again" if action == "replay" else "was discarded"
    flash(f"Event {event.event_id} {done}; later events of its key flow again.")
    return redirect(url_for("portal.admin_operations"))


@bp.get("/admin/keys")
@role_required(*ADMINS)
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
@role_required(*ADMINS)
@fully_authenticated
def create_application():
    form = _key_form()
    if not form.validate():
        return admin_keys(key_form=form, status=422)
    expires = datetime.combine(form.expires.data, time.min, UTC) if form.expires.data else None
    try:
        issued = create_application_key(form.name.data, form.permissions.data, expires)
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
    except IntegrityError:
        db.session.rollback()
        form.name.errors = [
            *form.name.errors,
            f"{form.name.data.strip()} already has a live key; revoke it first.",
        ]
        return admin_keys(key_form=form, status=409)
    db.session.commit()
    return shows_secret(
        render_template(
            "portal/application_key_created.html", application=issued.application, key=issued.key
        )
    )


@bp.post("/admin/applications/<path:name>/revoke")
@role_required(*ADMINS)
@fully_authenticated
def revoke_application(name: str):
    revoked = revoke_application_key(name)
    db.session.commit()
    if revoked:
        flash(f"The key of {name} was revoked.")
    else:
        flash(f"{name} has no live key.", "error")
    return redirect(url_for("portal.admin_keys"))


@bp.post("/admin/api-tokens")
@role_required(*ADMINS)
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
