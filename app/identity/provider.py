"""The OpenID Connect provider as a client sees it (authlib's Flask client).

Authorization code flow with PKCE (S256), `state` and `nonce`; authlib keeps
state, nonce and code verifier in the session between the redirect and the
callback, and checks the id_token's signature (provider JWKS), `iss`, `aud`,
`exp` and `nonce`.
"""

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from app.config import Settings, SettingsError

CALLBACK_PATH = "/login/callback"
PROVIDER_NAME = "provider"
HTTP_TIMEOUT_SECONDS = 10


def register_provider(app: Flask, settings: Settings) -> None:
    if not settings.oidc_issuer:
        return
    if not settings.oidc_client_id:
        raise SettingsError("Invalid setting OIDC_CLIENT_ID: required when OIDC_ISSUER is set")
    secret = settings.oidc_client_secret
    oauth = OAuth(app)
    app.extensions["oidc_provider"] = oauth.register(
        PROVIDER_NAME,
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": settings.oidc_scopes,
            "code_challenge_method": "S256",
            "timeout": HTTP_TIMEOUT_SECONDS,
        },
    )


def provider():
    """The registered client, or None when no provider is configured."""
    return current_app.extensions.get("oidc_provider")


def public_url(path: str) -> str:
    """An absolute URL of this site as clients reach it (PUBLIC_BASE_URL, root path)."""
    settings = current_app.extensions["settings"]
    return str(settings.public_base_url).rstrip("/") + settings.api_root_path + path


def callback_url() -> str:
    """The redirect URI to register at the provider."""
    return public_url(CALLBACK_PATH)
