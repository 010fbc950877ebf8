"""The permissions applications can hold, and the decorator that checks them.

This enum is the only place permissions are added. Values are stored in the
database: never renumber a member.
"""

from enum import IntEnum, unique

from app.accounts.credentials import refuse_if_cut_off
from app.accounts.models import PersonRole, User, UserStatus
from app.applications.models import role_models
from app.auth.bearer import bearer_credential
from app.auth.internal_tokens import verify_internal_token
from app.auth.keys import token_keys
from app.extensions import db
from app.second_factor.levels import refuse_without_second_factor
from roles import ApplicationStore, make_permission_decorator


@unique
class Permission(IntEnum):
    ADMIN = 1  # everything an application may do
    DATA_STEWARD = 2  # catalog, grants, access decisions
    FEED_PUBLISHER = 3  # POST /events
    USER_ADMIN = 4  # accounts
    JOBS_ADMIN = 5  # jobs, maintenance
    WORKER = 6  # calls made by workers


#: What a person's role lets them do with their own access token (ADR 0012).
ROLE_PERMISSIONS = {
    PersonRole.RESEARCHER: frozenset(),
    PersonRole.STEWARD: frozenset({Permission.DATA_STEWARD}),
    PersonRole.ADMIN: frozenset({Permission.ADMIN}),
}


def person_permissions() -> tuple[str, frozenset[Permission]]:
    """Who the bearer token speaks for, and what their role here allows.

    The role is read from the local account at every request, never from a claim
    in the token: a token made elsewhere cannot make anyone a steward, and a
    changed role takes effect at once. Accounts not active here hold nothing.
    """
    user = verify_internal_token(bearer_credential(), token_keys())
    account = db.session.get(User, user.id)
    if account is None or account.status != UserStatus.ACTIVE:
        return f"user:{user.id}", frozenset()
    refuse_if_cut_off(account, user.iat)
    held = ROLE_PERMISSIONS[PersonRole(account.role)]
    if held:
        # A role acts only through a token made after the second factor.
        refuse_without_second_factor(user)
    return f"user:{account.id}", held


application_store = ApplicationStore(role_models, lambda: db.session, Permission)
permissions_required = make_permission_decorator(
    Permission, application_store, superuser=Permission.ADMIN, person_permissions=person_permissions
)
