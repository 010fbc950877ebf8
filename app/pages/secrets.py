"""Pages that show a secret once: never cached, never stored by the browser."""

from flask import make_response


def shows_secret(page: str, status: int = 200):
    """A response for a page holding a token or key: `Cache-Control: no-store`.

    The secret is in the body only: never in a URL, a flash message or a log line.
    """
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
