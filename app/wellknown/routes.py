from flask import Blueprint
from pydantic import BaseModel

from app.api import json_response, operation
from app.auth.keys import token_keys

bp = Blueprint("wellknown", __name__)


class PublicJwk(BaseModel):
    kty: str
    crv: str
    x: str
    y: str
    kid: str
    use: str
    alg: str


class JsonWebKeySet(BaseModel):
    keys: list[PublicJwk]


@bp.get("/.well-known/jwks.json")
@operation(
    "Public keys that verify work order tokens",
    description="Storage services verify a work order token's ES256 signature with "
    "the key whose `kid` is in the token header.",
    tags=["well-known"],
    responses={200: JsonWebKeySet},
)
def jwks():
    return json_response(JsonWebKeySet.model_validate(token_keys().jwks))
