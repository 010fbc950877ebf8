"""The decorator that checks an application key's or a person's permissions
(the permissions themselves are in app/authz)."""

from uuid import UUID

from flask import g

from app.accounts.credentials import refuse_if_cut_off
from app.accounts.models import User, UserStatus
from app.applications.models import role_models
from app.auth.bearer import bearer_credential
from app.auth.internal_tokens import verify_internal_token
from app.auth.keys import token_keys
from app.authz import ROLE_PERMISSIONS, Actor, Permission
from app.extensions import db
from app.second_factor.levels import refuse_without_second_factor
from roles import ApplicationStore, make_permission_decorator


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
    held = ROLE_PERMISSIONS[account.role]
    if held:
        # A role acts only through a token made after the second factor.
        refuse_without_second_factor(user)
    return f"user:{account.id}", held


def request_actor() -> Actor:
    """The caller `permissions_required` admitted, as the `Actor` actions expect: a key
    with the permissions it holds, or a person with their role's, read from the account
    as `person_permissions` read it (the session has it already: no second query)."""
    application = g.application
    if application is not None:
        return Actor.application(application.name, application_store.granted(application))
    user_id = UUID(g.actor.removeprefix("user:"))
    account = db.session.get(User, user_id)
    active = account is not None and account.status == UserStatus.ACTIVE
    # `person_permissions` let the role count only for a token made after the second factor.
    return Actor.person(user_id, account.role if active else None, "api")


application_store = ApplicationStore(role_models, lambda: db.session, Permission)
permissions_required = make_permission_decorator(
    Permission, application_store, superuser=Permission.ADMIN, person_permissions=person_permissions
)
