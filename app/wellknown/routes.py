from flask import Blueprint, current_app
from pydantic import BaseModel

from app.credentials.keys import token_keys
from app.rest import json_response, operation
from app.storage.keys import storage_keys

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


class WellKnownValues(BaseModel):
    wps_api_url: str
    dcs_api_url: str
    ucs_api_url: str
    crypt4gh_public_keys: dict[str, str]


@bp.get("/.well-known/values")
@operation(
    "Where clients find this service's APIs and storage keys",
    description="What ghga-connector reads first: the work package, download and upload "
    "API roots, and the Crypt4GH public key of each storage alias.",
    tags=["well-known"],
    responses={200: WellKnownValues},
)
def values():
    settings = current_app.extensions["settings"]
    base = str(settings.public_base_url).rstrip("/")
    return json_response(
        WellKnownValues(
            wps_api_url=base,
            dcs_api_url=f"{base}/download",
            ucs_api_url=f"{base}/upload",
            crypt4gh_public_keys={settings.storage_alias: storage_keys().public_base64},
        )
    )
