"""Headers every HTML page carries, and how the session cookie is set."""

from flask import Flask, Response

# No inline script anywhere: pages load their scripts from /static only.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HTML_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def session_cookie_config(settings) -> dict:
    return {
        "SESSION_COOKIE_NAME": "wps_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": str(settings.public_base_url).startswith("https://"),
    }


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            for name, value in HTML_HEADERS.items():
                response.headers.setdefault(name, value)
        return response
