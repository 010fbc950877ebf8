"""Admin reset of a person's second factor over the JSON API."""

from uuid import UUID

from flask import Blueprint
from pydantic import UUID4, BaseModel

from app.accounts.actors import actor_required
from app.api import operation
from app.applications.permissions import Permission
from app.errors import NotFound
from app.extensions import db
from app.second_factor import totp
from app.second_factor.audit import record

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
def reset_totp(actor: str, user_id: UUID):
    if not totp.reset(user_id, actor):
        raise NotFound("This person has no second factor", code="no_second_factor")
    record(user_id, "second_factor_reset", actor, "api")
    db.session.commit()
    return "", 204
