"""Steward endpoints for access grants (`Workflow-API-Key` with DATA_STEWARD)."""

from uuid import UUID

from flask import Blueprint, g

from app.access import actions, services
from app.access.callers import api_actor
from app.access.schemas import GrantPage, GrantPath, GrantQuery, GrantRequest, GrantView
from app.api import json_response, operation
from app.applications.permissions import Permission, permissions_required

bp = Blueprint("access", __name__)
steward_only = permissions_required([Permission.DATA_STEWARD])


@bp.post("/access-grants")
@steward_only
@operation(
    "Grant a user access to a dataset or an upload box",
    description="The dataset or box must be in the catalog. Used when `ACCESS_URL` "
    "is unset; with an external access API, grants recorded here are not consulted.",
    tags=["access"],
    body=GrantRequest,
    responses={201: GrantView},
)
def create_grant(body: GrantRequest):
    grant = actions.create_grant(api_actor(g.actor, Permission.DATA_STEWARD), body)
    return json_response(GrantView.of(grant), 201)


@bp.get("/access-grants")
@steward_only
@operation(
    "Access grants",
    description="Filter by user, dataset or box; revoked and expired grants only with "
    "`include_inactive=true`.",
    tags=["access"],
    query=GrantQuery,
    responses={200: GrantPage},
)
def list_grants(query: GrantQuery):
    items, total = services.list_grants(query)
    return json_response(GrantPage(items=[GrantView.of(x) for x in items], total_count=total))


@bp.delete("/access-grants/<grant_id>")
@steward_only
@operation(
    "Revoke an access grant",
    description="Work packages made with it stop answering at their next use.",
    tags=["access"],
    path=GrantPath,
    responses={204: None},
)
def revoke_grant(grant_id: UUID):
    actions.revoke_grant(api_actor(g.actor, Permission.DATA_STEWARD), grant_id)
    return "", 204
