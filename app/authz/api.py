"""The JSON API's door: who calls (`api_actor`), and the decorators that admit them.

A `Workflow-API-Key` header makes the caller an application holding the key's
permissions; otherwise an internal bearer token makes it a person, whose role's
permissions count only when the token was made after the second factor. The role
is read from the account at every request, never from a claim in the token: a
token made elsewhere cannot make anyone a steward, and a changed role counts at
once. The decorators hand the view `actor=` (an `Actor`).
"""

from collections.abc import Callable, Iterable
from functools import wraps
from uuid import UUID

from flask import g, request

from app.authz.accounts import find_account, refuse_if_cut_off
from app.authz.actor import Actor
from app.authz.application_keys import application_store
from app.authz.errors import AccountDisabled, RoleRequired, SecondFactorRequired
from app.authz.levels import MADE_BEFORE_SECOND_FACTOR, token_fully_authenticated
from app.authz.permissions import Permission
from app.credentials.bearer import bearer_credential
from app.credentials.internal_tokens import verify_internal_token
from app.credentials.keys import token_keys
from app.errors import Forbidden
from roles import API_KEY_HEADER, PermissionDenied


def api_actor() -> Actor:
    """The caller of this request: a key's application, or a person's token.

    401 for an unknown key or a missing or invalid token, and for a token issued
    before the account's credentials were cut off. A person whose account is not
    active here is an `Actor` holding nothing (`active` False).
    """
    key = request.headers.get(API_KEY_HEADER)
    if key is not None:
        return _key_actor(key)
    user = verify_internal_token(bearer_credential(), token_keys())
    account = find_account(user.id)
    if account is None or not account.is_active:
        return Actor.person(user.id, None, "api", active=False)
    refuse_if_cut_off(account, user.iat)
    return Actor.person(account.id, account.role, "api", full=token_fully_authenticated(user))


def _key_actor(key: str | None) -> Actor:
    application = application_store.authenticate(key)
    g.application = application  # `/applications/me` describes it
    return Actor.application(application.name, application_store.granted(application))


def _refuse_until_second_factor(actor: Actor) -> None:
    """A person's role acts only through a token made after the second factor."""
    if actor.withheld:
        raise SecondFactorRequired(MADE_BEFORE_SECOND_FACTOR)


def _door(
    required: frozenset[Permission],
    *,
    people: bool,
    person_first: bool,
    person_lacking: Callable[[], Exception],
) -> Callable[[], Actor]:
    """How one decorator admits a request; answers the admitted `Actor`.

    `person_first`: a request without a key is a person's (401 `not_authenticated`
    without a token); otherwise only one with an `Authorization` header is, and a
    request with neither is refused as a missing key (401 `invalid_api_key`).
    """
    accepted = required | {Permission.ADMIN}

    def admit() -> Actor:
        no_key = request.headers.get(API_KEY_HEADER) is None
        person = people and no_key and (person_first or "Authorization" in request.headers)
        if not person:
            actor = _key_actor(request.headers.get(API_KEY_HEADER))
            if not actor.holds_any(required):
                raise PermissionDenied.lacking(accepted, actor.permissions)
            return actor
        actor = api_actor()
        _refuse_until_second_factor(actor)
        if not actor.holds_any(required):
            raise person_lacking()
        return actor

    return admit


def _decorate(admit: Callable[[], Actor], pass_actor: bool, **annotations) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = admit()
            g.actor = actor
            if pass_actor:
                kwargs["actor"] = actor
            return view(*args, **kwargs)

        # Read by the OpenAPI document (app/rest/document.py).
        for name, value in annotations.items():
            setattr(wrapper, name, value)
        return wrapper

    return decorator


def requires(*permissions: Permission, people: bool = True, pass_actor: bool = True) -> Callable:
    """Admit a key holding any of `permissions` (or ADMIN), or, with `people`, a person's
    token whose role holds one (403 `permission_denied` otherwise); the view gets `actor=`.

    `pass_actor=False` is for views that do not act (reads): the actor is on `g.actor`.
    """
    required = _checked(permissions)
    admit = _door(
        required,
        people=people,
        person_first=False,
        person_lacking=lambda: PermissionDenied("Your role does not allow this operation"),
    )
    return _decorate(
        admit,
        pass_actor,
        required_permissions=sorted(p.name for p in required),
        api_key_header=API_KEY_HEADER,
        admits_people=people,
    )


def permissions_required(permissions: Iterable[Permission], people: bool = True) -> Callable:
    """`requires` for views that do not take `actor=` (the roles package's old signature)."""
    return requires(*permissions, people=people, pass_actor=False)


def actor_required(permission: Permission) -> Callable:
    """Admit a key holding `permission` (or ADMIN), or a person's token whose role holds it
    (403 `role_required` otherwise; 401 `not_authenticated` without key and token)."""
    required = _checked([permission])
    admit = _door(
        required,
        people=True,
        person_first=True,
        person_lacking=lambda: RoleRequired(
            f"This needs a person whose role allows it, or an API key with {permission.name} "
            "or ADMIN"
        ),
    )
    return _decorate(
        admit,
        True,
        security_schemes=["WorkflowApiKey", "InternalToken"],
        required_permissions=[permission.name],
        admits_people=True,
    )


def person_or_key_required(permission: Permission) -> Callable:
    """Admit every active person's token (what they may do is the view's `require_…`),
    or a key holding `permission` (or ADMIN). 403 `account_not_active` for a person
    whose account is not active here."""
    required = _checked([permission])

    def admit() -> Actor:
        if request.headers.get(API_KEY_HEADER) is not None:
            actor = _key_actor(request.headers.get(API_KEY_HEADER))
            if not actor.holds_any(required):
                raise PermissionDenied("This API key lacks the permission for this operation")
            return actor
        actor = api_actor()
        if not actor.active:
            raise Forbidden("This needs an active account", code="account_not_active")
        return actor

    return _decorate(
        admit,
        True,
        security_schemes=["InternalToken", "WorkflowApiKey"],
        required_permissions=[permission.name, "(or the person's own internal token)"],
    )


def internal_token_required(view: Callable) -> Callable:
    """A person acting only for themself (their own work packages, requests, tokens):
    admit a valid internal token; the view receives `user=` (an `AuthUser`).

    Tokens of disabled or rejected accounts, and tokens issued before the account's
    credentials were cut off, are refused even before they expire. A user without an
    account here (an external identity provider's, or a development token's) is not
    blocked.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = verify_internal_token(bearer_credential(), token_keys())
        account = find_account(user.id)
        if account is not None:
            if account.is_blocked:
                raise AccountDisabled()
            refuse_if_cut_off(account, user.iat)
        return view(*args, user=user, **kwargs)

    wrapper.bearer_scheme = "InternalToken"
    return wrapper


def require_steward(actor: Actor) -> None:
    """A data steward's step: 403 `steward_required`, or `second_factor_required` for a
    steward's token made before the second factor."""
    if actor.holds(Permission.DATA_STEWARD):
        return
    if actor.entitled_to(Permission.DATA_STEWARD):
        raise SecondFactorRequired(MADE_BEFORE_SECOND_FACTOR)
    raise Forbidden("This step is for data stewards", code="steward_required")


def require_self_or_steward(actor: Actor, user_id: UUID) -> None:
    if not actor.is_person(user_id):
        require_steward(actor)


def _checked(permissions: Iterable[Permission]) -> frozenset[Permission]:
    required = frozenset(permissions)
    if not required or not all(isinstance(p, Permission) for p in required):
        raise ValueError("permissions must be members of app.authz.Permission")
    return required
