"""Admin reset of a person's second factor over the JSON API."""

from uuid import UUID

from flask import Blueprint
from pydantic import UUID4, BaseModel

from app.authz import Actor, Permission
from app.authz.api import actor_required
from app.rest import operation
from app.second_factor import actions

bp = Blueprint("second_factor_api", __name__)


class UserPath(BaseModel):
    user_id: UUID4


@bp.delete("/users/<user_id>/totp")
@actor_required(Permission.USER_ADMIN)
@operation(
    "Reset a person's second factor",
    description="The TOTP secret, its recovery codes and the person's verification "
    "addresses are deleted, and every session, access and API token of the person ends; "
    "the person signs in again and sets up a new second factor.",
    tags=["accounts"],
    path=UserPath,
    responses={204: None, 404: None},
)
def reset_totp(actor: Actor, user_id: UUID):
    actions.reset(actor, user_id)
    return "", 204
