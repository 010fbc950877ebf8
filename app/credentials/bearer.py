"""Reading `Authorization: Bearer <credential>`."""

from flask import request

from app.errors import Unauthorized


def bearer_credential() -> str:
    return credential_of(request.headers.get("Authorization", ""))


def credential_of(header: str) -> str:
    """The credential of an `Authorization` header value, or 401."""
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthorized("Missing bearer credential", code="not_authenticated")
    return credential.strip()
