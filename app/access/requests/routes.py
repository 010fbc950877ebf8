"""Access requests: users ask (internal token), stewards decide (DATA_STEWARD or admin)."""

from uuid import UUID

from flask import Blueprint

from app.access import actions
from app.access.requests import services as requests
from app.access.requests.schemas import (
    AccessRequestCreation,
    AccessRequestPage,
    AccessRequestPath,
    AccessRequestQuery,
    AccessRequestView,
    Decision,
)
from app.authz import Actor, Permission
from app.authz.api import actor_required, internal_token_required
from app.credentials.internal_tokens import AuthUser
from app.rest import PageQuery, json_response, operation

bp = Blueprint("access_requests", __name__)


@bp.post("/access-requests")
@internal_token_required
@operation(
    "Ask for access to a dataset or an upload box",
    tags=["access"],
    body=AccessRequestCreation,
    responses={201: AccessRequestView, 404: None, 429: None},
)
def create(user: AuthUser, body: AccessRequestCreation):
    request = actions.make_request(Actor.person(user.id, None, "api"), user, body)
    return json_response(AccessRequestView.of(request), 201)


@bp.get("/users/me/access-requests")
@internal_token_required
@operation(
    "The caller's own access requests",
    tags=["access"],
    query=PageQuery,
    responses={200: AccessRequestPage},
)
def mine(user: AuthUser, query: PageQuery):
    items, total = requests.listing(
        AccessRequestQuery(user_id=user.id, skip=query.skip, limit=query.limit)
    )
    return json_response(
        AccessRequestPage(items=[AccessRequestView.of(r) for r in items], total_count=total)
    )


@bp.get("/access-requests")
@actor_required(Permission.DATA_STEWARD)
@operation(
    "Access requests, filtered by status or user",
    tags=["access"],
    query=AccessRequestQuery,
    responses={200: AccessRequestPage},
)
def listing(actor: Actor, query: AccessRequestQuery):
    items, total = requests.listing(query)
    return json_response(
        AccessRequestPage(items=[AccessRequestView.of(r) for r in items], total_count=total)
    )


@bp.post("/access-requests/<request_id>/allow")
@actor_required(Permission.DATA_STEWARD)
@operation(
    "Allow an access request: the grant is created",
    tags=["access"],
    path=AccessRequestPath,
    body=Decision,
    responses={200: AccessRequestView, 404: None, 409: None},
)
def allow(actor: Actor, request_id: UUID, body: Decision):
    request = actions.allow_request(actor, request_id, body)
    return json_response(AccessRequestView.of(request))


@bp.post("/access-requests/<request_id>/deny")
@actor_required(Permission.DATA_STEWARD)
@operation(
    "Deny an access request",
    tags=["access"],
    path=AccessRequestPath,
    body=Decision,
    responses={200: AccessRequestView, 404: None, 409: None},
)
def deny(actor: Actor, request_id: UUID, body: Decision):
    request = actions.deny_request(actor, request_id, body)
    return json_response(AccessRequestView.of(request))
