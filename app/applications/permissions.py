"""The application keys' store (the roles package on this service's tables).

Who may act, with a key or otherwise, is decided in app/authz (app/authz/api.py
reads keys through this store).
"""

from app.applications.models import role_models
from app.authz import Permission
from app.extensions import db
from roles import ApplicationStore

__all__ = ["Permission", "application_store"]

application_store = ApplicationStore(role_models, lambda: db.session, Permission)
