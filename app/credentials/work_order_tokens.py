"""Signing work order tokens: 30-second ES256 JWTs, one per file operation."""

import time

import jwt

from app.credentials.keys import WORK_ORDER_ALGORITHM, TokenKeys

WORK_ORDER_TOKEN_VALID_SECONDS = 30


def sign_work_order(claims: dict, keys: TokenKeys) -> str:
    issued_at = int(time.time())
    payload = claims | {"iat": issued_at, "exp": issued_at + WORK_ORDER_TOKEN_VALID_SECONDS}
    return jwt.encode(
        payload,
        keys.work_order_signing.key,
        algorithm=WORK_ORDER_ALGORITHM,
        headers={"kid": keys.work_order_kid},
    )


def verify_work_order(token: str, keys: TokenKeys) -> dict:
    """The claims of a work order token this service signed, or jwt.InvalidTokenError."""
    return jwt.decode(
        token,
        keys.work_order_signing.key.public_key(),
        algorithms=[WORK_ORDER_ALGORITHM],
        leeway=5,
        options={"require": ["work_type", "user_public_crypt4gh_key", "iat", "exp"]},
    )
