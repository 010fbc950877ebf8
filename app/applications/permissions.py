"""The permissions applications can hold, and the decorator that checks them.

This enum is the only place permissions are added. Values are stored in the
database: never renumber a member.
"""

from enum import IntEnum, unique

from app.applications.models import role_models
from app.extensions import db
from roles import ApplicationStore, make_permission_decorator


@unique
class Permission(IntEnum):
    ADMIN = 1  # everything an application may do
    DATA_STEWARD = 2  # catalog, grants, access decisions
    FEED_PUBLISHER = 3  # POST /events
    USER_ADMIN = 4  # accounts
    JOBS_ADMIN = 5  # jobs, maintenance
    WORKER = 6  # calls made by workers


application_store = ApplicationStore(role_models, lambda: db.session, Permission)
permissions_required = make_permission_decorator(
    Permission, application_store, superuser=Permission.ADMIN
)
