"""The doors' refusals: every channel answers these the same way (ADR 23)."""

from app.errors import Forbidden, Unauthorized


class AccountDisabled(Unauthorized):
    """The account is disabled."""

    code = "account_disabled"


class RoleRequired(Forbidden):
    """Your role does not allow this; it needs another role or an API key with the permission."""

    code = "role_required"


class CredentialsReset(Unauthorized):
    """This token was issued before your credentials were reset."""

    code = "credentials_reset"

    @classmethod
    def default_detail(cls) -> str:
        return (
            "This token was issued before your credentials were reset; sign in again, "
            "or make a new API token in the portal"
        )


class SecondFactorRequired(Forbidden):
    """This needs a second factor passed in this session (sign in again with your code)."""

    code = "second_factor_required"
