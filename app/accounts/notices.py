"""What a person is told about their own account."""

from app.notifications.dispatch import email_user


def tell_accepted(user) -> None:
    email_user(
        user.email,
        "Your account is active",
        f"Dear {user.name},\n\nyour account has been accepted. Sign in to use the service; "
        "API clients trade their refresh token at /token/refresh for access tokens.\n",
    )
