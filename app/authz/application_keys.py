"""Application keys: the roles package's tables on this service's base, and their store.

A `Workflow-API-Key` makes its caller an application actor holding the key's
permissions, so the keys belong to the room that decides who may act; managing
them (create, revoke, list) is the applications room's.
"""

from app.authz.permissions import Permission
from app.database import Base, db
from roles import ApplicationStore, define_role_models

role_models = define_role_models(Base)
Application = role_models.application
SystemPermission = role_models.system_permission
ApplicationSystemPermission = role_models.application_system_permission

application_store = ApplicationStore(role_models, lambda: db.session, Permission)
