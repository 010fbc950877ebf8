"""Accounts: `/users/signup`, `/token/refresh`, `/users/me`, and admin actions on `/users`."""

from uuid import UUID

from flask import Blueprint, current_app

from app.accounts import actions, services
from app.accounts.audit import list_events
from app.accounts.models import PersonRole
from app.accounts.schemas import (
    AccountEventPage,
    AccountEventView,
    Crypt4ghKeyChange,
    IssuedRefreshToken,
    RefreshRequest,
    RoleChange,
    SignupRequest,
    SignupResponse,
    TokenPair,
    UserPage,
    UserPath,
    UserQuery,
    UserView,
)
from app.authz import Actor, Permission
from app.authz.api import actor_required, internal_token_required
from app.credentials.internal_tokens import AuthUser
from app.extensions import limiter, limits_checked
from app.rest import PageQuery, json_response, operation

bp = Blueprint("accounts", __name__)

# Answers that carry a refresh or access token must not be kept by any cache.
NO_STORE = {"Cache-Control": "no-store"}


def _signup_limit() -> str:
    return current_app.extensions["settings"].signup_rate_limit


@bp.post("/users/signup")
@limits_checked
@limiter.limit(_signup_limit)
@operation(
    "Sign up",
    description="The account is pending until an admin accepts it (the configured "
    "initial admin is active at once). The answer's `refresh_token` is shown only here. "
    "404 when AUTH_MODE=external; 429 when a client signs up too often.",
    tags=["accounts"],
    body=SignupRequest,
    responses={201: SignupResponse, 403: None, 404: None, 409: None, 429: None},
)
def signup(body: SignupRequest):
    user, refresh_token = actions.sign_up(body)
    view = UserView.of(user).model_dump()
    return json_response(SignupResponse(**view, refresh_token=refresh_token), 201, NO_STORE)


@bp.post("/token/refresh")
@operation(
    "Trade a refresh token for an access token and a new refresh token",
    description="The refresh token sent is spent. Sending a spent one again revokes "
    "every token of its chain. 403 while the account is pending; 401 when disabled, and "
    "once disabling, rejecting or a second-factor reset ended the chain. A chain made "
    "after the second factor ends MFA_TOKEN_FAMILY_MAX_AGE after its first token "
    "(401 `api_token_too_old`).",
    tags=["accounts"],
    body=RefreshRequest,
    responses={200: TokenPair},
)
def refresh(body: RefreshRequest):
    pair = actions.trade_refresh_token(body.refresh_token)
    return json_response(pair, headers=NO_STORE)


@bp.get("/users/me")
@internal_token_required
@operation("The caller's account", tags=["accounts"], responses={200: UserView, 404: None})
def me(user: AuthUser):
    return json_response(UserView.of(services.get_user(user.id)))


@bp.put("/users/me/crypt4gh-public-key")
@internal_token_required
@operation(
    "Set the caller's Crypt4GH public key (DRS downloads are sealed to it)",
    description="422 `invalid_crypt4gh_key` for anything but a Crypt4GH public key.",
    tags=["accounts"],
    body=Crypt4ghKeyChange,
    responses={200: UserView, 404: None},
)
def set_crypt4gh_key(user: AuthUser, body: Crypt4ghKeyChange):
    person = services.get_user(user.id)
    done = actions.set_crypt4gh_key(Actor.person(person.id, None, "api"), person, body.public_key)
    return json_response(UserView.of(done))


@bp.get("/users")
@actor_required(Permission.USER_ADMIN)
@operation(
    "Accounts, filtered by status", tags=["accounts"], query=UserQuery, responses={200: UserPage}
)
def list_users(actor: Actor, query: UserQuery):
    items, total = services.list_users(query)
    return json_response(UserPage(items=[UserView.of(u) for u in items], total_count=total))


def _status_action(act, name: str, summary: str):
    def action(actor: Actor, user_id: UUID):
        user = act(actor, user_id)
        return json_response(UserView.of(user))

    action.__name__ = f"{name}_user"
    return operation(
        summary, tags=["accounts"], path=UserPath, responses={200: UserView, 404: None, 409: None}
    )(action)


# The view names (the status reached) are kept as they were: openapi.yaml shows them.
for path, act, name, summary in (
    ("accept", actions.accept, "active", "Accept a pending account (the user is e-mailed)"),
    ("reject", actions.reject, "rejected", "Reject a pending account"),
    (
        "disable",
        actions.disable,
        "disabled",
        "Disable an account: its tokens, sessions and packages stop",
    ),
    ("enable", actions.enable, "active", "Enable a disabled account (its old tokens stay dead)"),
):
    view = actor_required(Permission.USER_ADMIN)(_status_action(act, name, summary))
    bp.add_url_rule(f"/users/<user_id>/{path}", f"{path}_user", view, methods=["POST"])


@bp.post("/users/<user_id>/refresh-token")
@actor_required(Permission.USER_ADMIN)
@operation(
    "Issue a new refresh token for an account",
    description="For a person who lost or spent theirs, or whose account was disabled "
    "and enabled again. The answer's `refresh_token` is shown only here; the account's "
    "earlier refresh tokens are revoked. 409 for a disabled or rejected account.",
    tags=["accounts"],
    path=UserPath,
    responses={201: IssuedRefreshToken, 404: None, 409: None},
)
def issue_refresh_token(actor: Actor, user_id: UUID):
    user, refresh_token = actions.reissue_refresh_token(actor, user_id)
    return json_response(
        IssuedRefreshToken(user_id=user.id, refresh_token=refresh_token), 201, NO_STORE
    )


@bp.post("/users/<user_id>/make-admin")
@actor_required(Permission.USER_ADMIN)
@operation(
    "Make an active account admin",
    tags=["accounts"],
    path=UserPath,
    responses={200: UserView, 404: None, 409: None},
)
def make_admin(actor: Actor, user_id: UUID):
    user = actions.change_role(actor, user_id, PersonRole.ADMIN)
    return json_response(UserView.of(user))


@bp.post("/users/<user_id>/role")
@actor_required(Permission.USER_ADMIN)
@operation(
    "Give an active account a role: researcher, steward or admin",
    description="Recorded in `/account-events`. A steward's own access token is accepted "
    "where DATA_STEWARD is; an admin's where ADMIN is.",
    tags=["accounts"],
    path=UserPath,
    body=RoleChange,
    responses={200: UserView, 404: None, 409: None},
)
def change_role(actor: Actor, user_id: UUID, body: RoleChange):
    user = actions.change_role(actor, user_id, body.role)
    return json_response(UserView.of(user))


@bp.get("/account-events")
@actor_required(Permission.USER_ADMIN)
@operation(
    "Approvals, rejections, status and role changes, newest first",
    tags=["accounts"],
    query=PageQuery,
    responses={200: AccountEventPage},
)
def account_events(actor: Actor, query: PageQuery):
    events, total, people = list_events(query)
    items = [AccountEventView.of(event, people.get(event.user_id)) for event in events]
    return json_response(AccountEventPage(items=items, total_count=total))
