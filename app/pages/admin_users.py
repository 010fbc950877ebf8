"""`/admin/users`: admins approve, reject, disable and re-role people, and see the record."""

from uuid import UUID

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import case, select

from app.accounts import actions
from app.accounts.audit import list_events
from app.accounts.errors import UserNotFound
from app.accounts.models import PersonRole, User, UserStatus
from app.authz import Permission, person_label
from app.authz.pages import page_requires, web_actor
from app.errors import RequestValidationFailed
from app.extensions import db
from app.rest import PageQuery
from app.web import web_blueprint

bp = web_blueprint("admin", __name__, url_prefix="/admin")

RECENT_EVENTS = 50
#: Form action -> (the action, what the flash message says).
STATUS_ACTIONS = {
    "accept": (actions.accept, "accepted"),
    "reject": (actions.reject, "rejected"),
    "disable": (actions.disable, "disabled"),
    "enable": (actions.enable, "enabled"),
}
_PENDING_FIRST = case((User.status == UserStatus.PENDING.value, 0), else_=1)


@bp.get("/users")
@page_requires(Permission.ADMIN)
def users():
    people = db.session.scalars(
        select(User).order_by(_PENDING_FIRST, User.created_at.desc(), User.id)
    ).all()
    events, _total, by_id = list_events(PageQuery(limit=RECENT_EVENTS))
    emails = {person_label(p.id): p.email for p in people}
    return render_template(
        "admin/users.html",
        people=people,
        pending=sum(1 for p in people if p.status == UserStatus.PENDING),
        events=[(event, by_id.get(event.user_id)) for event in events],
        roles=[role.value for role in PersonRole],
        # "user:<id>" says who acted; an admin reads an e-mail address more easily.
        actors={event.actor: emails[event.actor] for event in events if event.actor in emails},
    )


@bp.post("/users/<user_id>/<action>")
@page_requires(Permission.ADMIN)
def change_status(user_id: str, action: str):
    if action not in STATUS_ACTIONS:
        raise UserNotFound("No such action")
    act, done = STATUS_ACTIONS[action]
    person = act(web_actor(), _account_id(user_id))
    flash(f"{person.name} ({person.email}) {done}.", "success")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<user_id>/role")
@page_requires(Permission.ADMIN)
def change_role(user_id: str):
    try:
        role = PersonRole(request.form.get("role", ""))
    except ValueError:
        raise RequestValidationFailed("Choose researcher, steward or admin") from None
    person = actions.change_role(web_actor(), _account_id(user_id), role)
    flash(f"{person.name} is now {person.role}.", "success")
    return redirect(url_for("admin.users"), 303)


def _account_id(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise UserNotFound("No such account") from None
