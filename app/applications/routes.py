from flask import Blueprint, g

from app.applications.schemas import ApplicationIdentity
from app.authz import Permission
from app.authz.api import permissions_required
from app.rest import operation

bp = Blueprint("applications", __name__)


@bp.get("/applications/me")
@permissions_required(list(Permission), people=False)
@operation(
    "The calling application",
    tags=["applications"],
    responses={200: ApplicationIdentity},
)
def me():
    application = g.application
    return ApplicationIdentity(
        name=application.name,
        permissions=application.permission_names,
        key_prefix=application.key_prefix,
        created_at=application.created_at,
        expires_at=application.expires_at,
    ).model_dump(mode="json")
