"""EC P-256 keys as JWK JSON: parsing, generation, thumbprints."""

import base64
import hashlib
import json

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

_PUBLIC_MEMBERS = ("crv", "kty", "x", "y")


class KeyFormatError(ValueError):
    pass


def parse_jwk(text: str, *, private: bool) -> jwt.PyJWK:
    """A JWK from its JSON; `private` says which half the caller needs."""
    try:
        data = json.loads(text)
        key = jwt.PyJWK(data)
    except (ValueError, jwt.PyJWKError, TypeError) as error:
        raise KeyFormatError(f"not a usable JWK ({error})") from None
    has_private = "d" in data
    if private and not has_private:
        raise KeyFormatError("a private key is needed, but the JWK has no 'd'")
    if not private and has_private:
        raise KeyFormatError("a public key is needed, but the JWK holds a private key")
    return key


def generate_private_jwk() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    data = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key))
    data["kid"] = thumbprint(data)
    return json.dumps(data)


def public_jwk(private_jwk_json: str) -> dict:
    data = json.loads(private_jwk_json)
    public = {name: data[name] for name in _PUBLIC_MEMBERS}
    public["kid"] = data.get("kid") or thumbprint(data)
    return public


def thumbprint(data: dict) -> str:
    """RFC 7638 thumbprint, used as `kid` when a key has none."""
    canonical = json.dumps(
        {name: data[name] for name in _PUBLIC_MEMBERS}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
