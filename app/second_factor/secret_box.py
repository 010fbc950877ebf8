"""TOTP secrets at rest: encrypted with a key derived from SECRET_KEY.

A TOTP code can only be checked with the secret itself, so it cannot be stored
as a hash. A copy of the database alone does not reveal it; with SECRET_KEY as
well it does (SECRET_KEY already signs sessions). Changing SECRET_KEY makes
every enrolled second factor unreadable: admins reset them (see ADR 0014).
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_INFO = b"wps second factor: TOTP secrets at rest v1"


def _fernet() -> Fernet:
    cache = current_app.extensions.setdefault("second_factor", {})
    if "fernet" not in cache:
        secret_key = current_app.config["SECRET_KEY"].encode()
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            secret_key
        )
        cache["fernet"] = Fernet(base64.urlsafe_b64encode(derived))
    return cache["fernet"]


class UnreadableSecret(Exception):
    """The stored secret was encrypted under another SECRET_KEY."""


def seal_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def open_secret(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret() from None
