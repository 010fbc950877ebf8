"""Cross-origin settings, shared by flask-cors and the lean token endpoints."""

from app.config import Settings
from app.logs import REQUEST_ID_HEADER


def cors_options(settings: Settings) -> dict | None:
    """flask-cors keyword arguments; None when no origin is allowed."""
    if not settings.cors_allowed_origins:
        return None
    return {"origins": settings.cors_allowed_origins, "expose_headers": [REQUEST_ID_HEADER]}
