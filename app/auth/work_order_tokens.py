"""Signing work order tokens: 30-second ES256 JWTs, one per file operation."""

import time

import jwt

from app.auth.keys import WORK_ORDER_ALGORITHM, TokenKeys

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
