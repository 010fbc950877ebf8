"""Application API keys and permission checks for Flask services.

The package is reusable: it imports nothing of the host application. The host
hands it a SQLAlchemy declarative base (to define the tables on) and a way to
reach the current session.
"""

from roles.decorators import make_permission_decorator
from roles.errors import (
    ApplicationNameTaken,
    AuthenticationFailed,
    PermissionDenied,
    RolesError,
)
from roles.keys import API_KEY_HEADER, hash_key
from roles.models import RoleModels, define_role_models
from roles.store import ApplicationStore, IssuedKey

__all__ = [
    "API_KEY_HEADER",
    "ApplicationNameTaken",
    "ApplicationStore",
    "AuthenticationFailed",
    "IssuedKey",
    "PermissionDenied",
    "RoleModels",
    "RolesError",
    "define_role_models",
    "hash_key",
    "make_permission_decorator",
]
