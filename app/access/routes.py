"""Steward endpoints for access grants (`Workflow-API-Key` with DATA_STEWARD)."""

from uuid import UUID

from flask import Blueprint

from app.access import actions, services
from app.access.schemas import GrantPage, GrantPath, GrantQuery, GrantRequest, GrantView
from app.authz import Actor, Permission
from app.authz.api import permissions_required, requires
from app.rest import json_response, operation

bp = Blueprint("access", __name__)
steward_only = permissions_required([Permission.DATA_STEWARD])
steward_acts = requires(Permission.DATA_STEWARD)


@bp.post("/access-grants")
@steward_acts
@operation(
    "Grant a user access to a dataset or an upload box",
    description="The dataset or box must be in the catalog. Used when `ACCESS_URL` "
    "is unset; with an external access API, grants recorded here are not consulted.",
    tags=["access"],
    body=GrantRequest,
    responses={201: GrantView},
)
def create_grant(actor: Actor, body: GrantRequest):
    grant = actions.create_grant(actor, body)
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
@steward_acts
@operation(
    "Revoke an access grant",
    description="Work packages made with it stop answering at their next use.",
    tags=["access"],
    path=GrantPath,
    responses={204: None},
)
def revoke_grant(actor: Actor, grant_id: UUID):
    actions.revoke_grant(actor, grant_id)
    return "", 204
