"""Errors raised when a caller's API key does not let it in.

They carry an HTTP status and a stable code so that the host application can
render them in its own error shape.
"""

from collections.abc import Iterable
from enum import Enum


class RolesError(Exception):
    status = 401
    code = "invalid_api_key"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class AuthenticationFailed(RolesError):
    """No key, or a key that is unknown, revoked or expired."""

    status = 401
    code = "invalid_api_key"


class PermissionDenied(RolesError):
    """A valid key whose application lacks the required permission."""

    status = 403
    code = "permission_denied"

    @classmethod
    def lacking(cls, accepted: Iterable[Enum], held: Iterable[Enum]) -> "PermissionDenied":
        """The refusal naming what would have been accepted, and what the key holds."""
        needed = " or ".join(sorted(p.name for p in accepted))
        holds = ", ".join(sorted(p.name for p in held)) or "no permission"
        return cls(
            f"This API key lacks the permission for this operation: it needs {needed} "
            f"(it holds {holds})"
        )


class ApplicationNameTaken(ValueError):
    """A live application already has this name (names are reused only after revocation)."""
