"""Errors raised when a caller's API key does not let it in.

They carry an HTTP status and a stable code so that the host application can
render them in its own error shape.
"""


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
