"""Who calls the IVA API: the person the address belongs to, or a data steward.

A steward is an application key with DATA_STEWARD (or ADMIN), or an active
person with the steward or admin role whose token was made after the second
factor. The checks here are the door (their error codes are the API's); the
actions in app/ivas/actions.py check the rule again on the `Actor` they get.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from uuid import UUID

from flask import request

from app.accounts.credentials import refuse_if_cut_off
from app.accounts.models import User, UserStatus
from app.applications.permissions import Permission, application_store
from app.auth.bearer import bearer_credential
from app.auth.internal_tokens import AuthUser, verify_internal_token
from app.auth.keys import token_keys
from app.authz import Actor
from app.errors import Forbidden
from app.extensions import db
from app.second_factor.levels import refuse_without_second_factor, token_fully_authenticated
from roles import API_KEY_HEADER, PermissionDenied

STEWARD_ROLES = ("steward", "admin")


@dataclass(frozen=True)
class IvaActor:
    label: str
    #: The calling person, None for an application key.
    user: AuthUser | None
    #: A person whose role would make them a steward (second factor still checked).
    steward_role: bool
    application: bool
    #: Who acts, for the actions: a person's role counts only after the second factor.
    acting: Actor

    def refuse_unless_steward(self) -> None:
        if self.application:
            return
        if not self.steward_role:
            raise Forbidden("This step is for data stewards", code="steward_required")
        refuse_without_second_factor(self.user)

    def refuse_unless_self_or_steward(self, user_id: UUID) -> None:
        if self.user is not None and self.user.id == user_id:
            return
        self.refuse_unless_steward()


def iva_actor_required(view: Callable) -> Callable:
    """Admit an API key with DATA_STEWARD or a person's internal token; view gets `actor=`."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.headers.get(API_KEY_HEADER) is not None:
            application = application_store.authenticate(request.headers.get(API_KEY_HEADER))
            held = application_store.granted(application)
            if Permission.ADMIN not in held and Permission.DATA_STEWARD not in held:
                raise PermissionDenied("This API key lacks the permission for this operation")
            acting = Actor.application(application.name, held)
            actor = IvaActor(acting.label, None, False, True, acting)
        else:
            user = verify_internal_token(bearer_credential(), token_keys())
            account = db.session.get(User, user.id)
            if account is None or account.status != UserStatus.ACTIVE:
                raise Forbidden("This needs an active account", code="account_not_active")
            refuse_if_cut_off(account, user.iat)
            role = _role(account)
            acting = Actor.person(user.id, role, "api", full=token_fully_authenticated(user))
            actor = IvaActor(acting.label, user, role in STEWARD_ROLES, False, acting)
        return view(*args, actor=actor, **kwargs)

    wrapper.security_schemes = ["InternalToken", "WorkflowApiKey"]
    wrapper.required_permissions = ["DATA_STEWARD", "(or the person's own internal token)"]
    return wrapper


def _role(account: User) -> str:
    role = getattr(account, "role", None)
    if role:
        return role
    return "admin" if account.is_admin else "researcher"
