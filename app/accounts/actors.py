"""Who may act as an operator: an application key with a permission, or a person whose role
holds it (steward: DATA_STEWARD; admin: everything, as ADMIN)."""

from collections.abc import Callable
from functools import wraps
from uuid import UUID

from flask import request

from app.accounts.errors import RoleRequired
from app.applications.permissions import Permission, application_store, person_permissions
from app.authz import Actor
from roles import API_KEY_HEADER, PermissionDenied


def actor_required(permission: Permission) -> Callable:
    """Admit a key holding `permission` (or ADMIN), or a person's token whose role holds it.

    The view receives `actor=`: "application:<name>" or "user:<id>", for records.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if request.headers.get(API_KEY_HEADER) is not None:
                actor = _application_actor(permission)
            else:
                actor = _person_actor(permission)
            return view(*args, actor=actor, **kwargs)

        wrapper.security_schemes = ["WorkflowApiKey", "InternalToken"]
        wrapper.required_permissions = [permission.name]
        wrapper.admits_people = True
        return wrapper

    return decorator


def _application_actor(permission: Permission) -> str:
    application = application_store.authenticate(request.headers.get(API_KEY_HEADER))
    held = application_store.granted(application)
    if Permission.ADMIN not in held and permission not in held:
        raise PermissionDenied.lacking({permission, Permission.ADMIN}, held)
    return f"application:{application.name}"


def _person_actor(permission: Permission) -> str:
    actor, held = person_permissions()
    if Permission.ADMIN not in held and permission not in held:
        raise RoleRequired(
            f"This needs a person whose role allows it, or an API key with {permission.name} "
            "or ADMIN"
        )
    return actor


def api_actor(label: str, proven: Permission) -> Actor:
    """The `Actor` for a label `actor_required(proven)` let in, for the actions.

    The decorator proved that the caller holds `proven` (or ADMIN); that is what the
    actor is said to hold, whether a key or a person's token (step b of ADR 0023
    makes the decorator hand over an `Actor` itself).
    """
    kind, _, reference = label.partition(":")
    person = UUID(reference) if kind == "user" else None
    return Actor(label, "api", frozenset({proven}), person)
