"""Reading `Authorization: Bearer <credential>`."""

from flask import request

from app.errors import Unauthorized


def bearer_credential() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthorized("Missing bearer credential", code="not_authenticated")
    return credential.strip()
