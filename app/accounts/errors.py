from app.authz.errors import AccountDisabled, CredentialsReset, RoleRequired
from app.errors import Conflict, Forbidden, NotFound, Unauthorized

# Decided at the doors (app/authz); named here too, where account errors are looked for.
__all__ = ["AccountDisabled", "CredentialsReset", "RoleRequired"]


class UserNotFound(NotFound):
    """User not found."""

    code = "user_not_found"


class EmailTaken(Conflict):
    """An account with this e-mail address exists."""

    code = "email_taken"


class InvalidRefreshToken(Unauthorized):
    """The refresh token is unknown, spent, revoked or expired."""

    code = "invalid_refresh_token"


class AccountPending(Forbidden):
    """account pending approval"""

    code = "account_pending"


class InvalidStatusChange(Conflict):
    """This status change is not allowed."""

    code = "invalid_status_change"


class AlreadyDecided(InvalidStatusChange):
    """Someone decided about this account already; nothing was changed."""

    code = "already_decided"

    def __init__(self, status: str, decision):
        self.status, self.decision = status, decision
        when = decision.at.strftime("%Y-%m-%d %H:%M UTC") if decision.at else "at an unknown time"
        super().__init__(f"The account is {status}: {decision.action} by {decision.actor} {when}")


class SignupDisabled(NotFound):
    """Signup is off: accounts come from the identity provider (AUTH_MODE=external)."""

    code = "signup_disabled"


class SignupClosed(Forbidden):
    """Accounts come from signing in at /login; signup is closed."""

    code = "signup_closed"


class SignInRefused(Forbidden):
    """The identity provider's answer was not accepted; sign in again."""

    code = "sign_in_refused"


class AmbiguousAccount(Conflict):
    """This reference names more than one account; give the account's id."""

    code = "ambiguous_account"


class AccountBlocked(Conflict):
    """A disabled or rejected account gets no new credentials; enable or accept it first."""

    code = "account_blocked"


class ApiTokenTooOld(InvalidRefreshToken):
    """This API token is older than a token made after the second factor may be."""

    code = "api_token_too_old"
