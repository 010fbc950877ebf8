"""What a person is told about their own account, and the operators about accounts."""

import logging

from app.notifications.approval import escape
from app.notifications.dispatch import email_user, notify_operators

log = logging.getLogger(__name__)


def tell_accepted(user) -> None:
    email_user(
        user.email,
        "Your account is active",
        f"Dear {user.name},\n\nyour account has been accepted. Sign in to use the service; "
        "API clients trade their refresh token at /token/refresh for access tokens.\n",
    )


def tell_operators_first_admin(user) -> None:
    """INITIAL_ADMIN_EMAIL made someone admin: rare, powerful, so never silent."""
    log.warning(
        "INITIAL_ADMIN_EMAIL made account %s the first admin (signed in through %s)",
        user.id,
        user.oidc_issuer,
    )
    notify_operators(
        f"{escape(user.name)} &lt;{escape(user.email)}&gt; ({user.id}) signed in and is now "
        "the first admin of this service, through INITIAL_ADMIN_EMAIL. That address makes "
        "nobody admin again; if this was not expected, disable the account at /admin/users."
    )
