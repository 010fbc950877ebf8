"""`/ga4gh/passport/v1`: a person's grants as visas, and the key set that verifies them."""

from uuid import UUID

from flask import Blueprint
from pydantic import BaseModel, Field

from app.authz import Actor, Permission
from app.authz.api import person_or_key_required
from app.credentials.keys import visa_keys
from app.rest import json_response, operation
from app.visas import actions
from app.wellknown.routes import JsonWebKeySet

bp = Blueprint("visas", __name__, url_prefix="/ga4gh/passport/v1")
TAGS = ["GA4GH Passport"]


class UserPath(BaseModel):
    user_id: UUID


class VisaList(BaseModel):
    ga4gh_passport_v1: list[str] = Field(
        description="One ControlledAccessGrants visa (a signed JWT) per live download grant."
    )


@bp.get("/visas/<user_id>")
@person_or_key_required(Permission.VISA_READER)
@operation(
    "A person's grants as GA4GH ControlledAccessGrants visas",
    description="For the person themself (a token made after the second factor) or an "
    "application key with `VISA_READER`. Each visa is signed with the visa key; its `jku` "
    "is `/ga4gh/passport/v1/jwks.json`. `by` is `dac`, `value` is "
    "`{PUBLIC_BASE_URL}/datasets/{accession}`, `exp` the grant's end or `VISA_VALID_DAYS`.",
    tags=TAGS,
    path=UserPath,
    responses={200: VisaList},
)
def visas(actor: Actor, user_id: UUID):
    listed = actions.visas_of(actor, user_id)
    return json_response(VisaList(ga4gh_passport_v1=listed), headers={"Cache-Control": "no-store"})


@bp.get("/jwks.json")
@operation(
    "The public keys that verify our visas",
    description="Only the visa keys (the current one, and the previous one during a "
    "rotation); work order tokens are verified with `/.well-known/jwks.json`.",
    tags=TAGS,
    responses={200: JsonWebKeySet},
)
def jwks():
    return json_response(JsonWebKeySet.model_validate(visa_keys().jwks))
