"""Identity: people sign in through an OpenID Connect provider; admins approve them.

`init_identity(app)` registers the provider client (when `OIDC_ISSUER` is set) and
the Slack interaction endpoint; the sign-in pages live with the other pages (app/pages).
"""

from flask import Flask

from app.config import SettingsError
from app.identity.provider import register_provider


def init_identity(app: Flask) -> None:
    settings = app.extensions["settings"]
    if (
        settings.deployment == "production"
        and settings.auth_mode == "standalone"
        and not settings.oidc_issuer
    ):
        raise SettingsError(
            "Invalid setting OIDC_ISSUER: required when DEPLOYMENT=production and "
            "AUTH_MODE=standalone (people sign in through an OpenID Connect provider)"
        )
    register_provider(app, settings)

    from app.identity.slack_routes import bp as slack

    app.register_blueprint(slack)
