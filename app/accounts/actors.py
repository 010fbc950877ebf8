"""Who may act as an operator: an application key with a permission, or an admin user."""

from collections.abc import Callable
from functools import wraps

from flask import request

from app.accounts.errors import AdminRequired
from app.accounts.models import User, UserStatus
from app.applications.permissions import Permission, application_store
from app.auth.bearer import bearer_credential
from app.auth.internal_tokens import verify_internal_token
from app.auth.keys import token_keys
from app.extensions import db
from roles import API_KEY_HEADER, PermissionDenied


def actor_required(permission: Permission) -> Callable:
    """Admit a key holding `permission` (or ADMIN), or an active admin user's token.

    The view receives `actor=`: "application:<name>" or "user:<id>", for records.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if request.headers.get(API_KEY_HEADER) is not None:
                actor = _application_actor(permission)
            else:
                actor = _admin_user_actor(permission)
            return view(*args, actor=actor, **kwargs)

        wrapper.security_schemes = ["WorkflowApiKey", "InternalToken"]
        wrapper.required_permissions = [permission.name, "(or an admin user's token)"]
        return wrapper

    return decorator


def _application_actor(permission: Permission) -> str:
    application = application_store.authenticate(request.headers.get(API_KEY_HEADER))
    held = application_store.granted(application)
    if Permission.ADMIN not in held and permission not in held:
        raise PermissionDenied.lacking({permission, Permission.ADMIN}, held)
    return f"application:{application.name}"


def _admin_user_actor(permission: Permission) -> str:
    user = verify_internal_token(bearer_credential(), token_keys())
    account = db.session.get(User, user.id)
    if account is None or account.status != UserStatus.ACTIVE or not account.is_admin:
        raise AdminRequired(
            f"This needs an active admin account, or an API key with {permission.name} or ADMIN"
        )
    return f"user:{account.id}"
