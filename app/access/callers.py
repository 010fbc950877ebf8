"""The caller the API's decorators admitted, as an `Actor` for the access actions.

The decorators (`actor_required`, `permissions_required`) stay the door and have
checked the permission already; this only says who came in (step (b) of issue 23
unifies the decorators, and then this goes).
"""

from uuid import UUID

from flask import g

from app.accounts.models import User
from app.applications.permissions import application_store
from app.authz import Actor, Permission
from app.extensions import db


def api_actor(label: str, admitted_for: Permission) -> Actor:
    """`label` is "user:<id>" or "application:<name>", as the decorator resolved it.

    A person holds what their role holds (the decorator read the account and asked
    for the second factor); a key what it was issued with when the decorator left it
    on `g`, else the permission the decorator proved it holds.
    """
    kind, _, name = label.partition(":")
    if kind == "user":
        person = db.session.get(User, UUID(name))
        return Actor.person(person.id, person.role if person else None, "api")
    application = getattr(g, "application", None)
    if application is not None and application.name == name:
        return Actor.application(name, application_store.granted(application))
    return Actor.application(name, {admitted_for})
