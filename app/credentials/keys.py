"""Signing and verification keys, parsed once when the app is created."""

import json
from dataclasses import dataclass

import jwt
from flask import current_app

from app.config import Settings, SettingsError
from app.credentials.jwk import KeyFormatError, generate_private_jwk, parse_jwk, public_jwk
from app.instance_secrets import instance_secret

WORK_ORDER_ALGORITHM = "ES256"


@dataclass(frozen=True)
class TokenKeys:
    auth_verify: jwt.PyJWK
    #: The verifying key's id; a token naming another `kid` is refused.
    auth_verify_kid: str | None
    auth_algorithms: tuple[str, ...]
    # The private half exists only when this service issues internal tokens itself
    # (generated development key); with an external identity provider it is None.
    auth_signing: jwt.PyJWK | None
    auth_signing_kid: str | None
    work_order_signing: jwt.PyJWK
    work_order_kid: str
    jwks: dict


def load_token_keys(settings: Settings, instance_path: str) -> TokenKeys:
    auth_signing_json = None
    if settings.auth_mode == "external":
        if not settings.auth_key:
            raise SettingsError("Invalid setting AUTH_KEY: required when AUTH_MODE=external")
        auth_public_json = settings.auth_key
    else:
        auth_signing_json = (
            settings.auth_signing_key.get_secret_value()
            if settings.auth_signing_key
            else instance_secret(
                instance_path, "AUTH_SIGNING_KEY", settings.deployment, generate_private_jwk
            )
        )
        _parse("AUTH_SIGNING_KEY", auth_signing_json, private=True)
        auth_public_json = json.dumps(public_jwk(auth_signing_json))
    wot_json = (
        settings.work_package_signing_key.get_secret_value()
        if settings.work_package_signing_key
        else instance_secret(
            instance_path, "WORK_PACKAGE_SIGNING_KEY", settings.deployment, generate_private_jwk
        )
    )
    work_order_signing = _parse("WORK_PACKAGE_SIGNING_KEY", wot_json, private=True)
    published = public_jwk(wot_json) | {"use": "sig", "alg": WORK_ORDER_ALGORITHM}
    return TokenKeys(
        auth_verify=_parse("AUTH_KEY", auth_public_json, private=False),
        auth_verify_kid=json.loads(auth_public_json).get("kid"),
        auth_algorithms=tuple(settings.auth_algs),
        auth_signing=_parse("AUTH_SIGNING_KEY", auth_signing_json, private=True)
        if auth_signing_json
        else None,
        auth_signing_kid=public_jwk(auth_signing_json)["kid"] if auth_signing_json else None,
        work_order_signing=work_order_signing,
        work_order_kid=published["kid"],
        jwks={"keys": [published]},
    )


def token_keys() -> TokenKeys:
    return current_app.extensions["token_keys"]


def _parse(setting: str, text: str, *, private: bool) -> jwt.PyJWK:
    try:
        return parse_jwk(text, private=private)
    except KeyFormatError as error:
        raise SettingsError(f"Invalid setting {setting}: {error}") from None


VISA_ALGORITHM = "ES256"
VISA_JWKS_PATH = "/ga4gh/passport/v1/jwks.json"


@dataclass(frozen=True)
class VisaKeys:
    """The key that signs the visas this service issues, apart from the work order key.

    `jwks` publishes its public half and, during a rotation, the previous key's.
    """

    signing: jwt.PyJWK
    kid: str
    jwks: dict
    issuer: str
    jku: str


def load_visa_keys(settings: Settings, instance_path: str) -> VisaKeys:
    current = (
        settings.visa_signing_key.get_secret_value()
        if settings.visa_signing_key
        else instance_secret(
            instance_path, "VISA_SIGNING_KEY", settings.deployment, generate_private_jwk
        )
    )
    signing = _parse("VISA_SIGNING_KEY", current, private=True)
    published = [public_jwk(current) | {"use": "sig", "alg": VISA_ALGORITHM}]
    if settings.visa_previous_signing_key:
        previous = settings.visa_previous_signing_key.get_secret_value()
        _parse("VISA_PREVIOUS_SIGNING_KEY", previous, private=True)
        published.append(public_jwk(previous) | {"use": "sig", "alg": VISA_ALGORITHM})
    work_orders = settings.work_package_signing_key
    if work_orders and public_jwk(work_orders.get_secret_value())["kid"] == published[0]["kid"]:
        # Storage trusts the work order key set: a visa key there would let it sign work
        # orders, and the other way round.
        raise SettingsError("Invalid setting VISA_SIGNING_KEY: it is the work order key")
    base = str(settings.public_base_url).rstrip("/")
    return VisaKeys(
        signing=signing,
        kid=published[0]["kid"],
        jwks={"keys": published},
        issuer=base,
        jku=base + VISA_JWKS_PATH,
    )


def visa_keys() -> VisaKeys:
    return current_app.extensions["visa_keys"]
