"""URLs that grant one method on one path until they expire: HMAC-SHA256 signed."""

import hashlib
import hmac
import time
from urllib.parse import urlencode


def _signature(secret: str, method: str, path: str, expires: int) -> str:
    message = f"{method.upper()}\n{path}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_url(base_url: str, secret: str, method: str, path: str, valid_seconds: int) -> str:
    expires = int(time.time()) + valid_seconds
    query = urlencode({"expires": expires, "signature": _signature(secret, method, path, expires)})
    return f"{base_url.rstrip('/')}{path}?{query}"


def signature_is_valid(
    secret: str, method: str, path: str, expires: str | None, signature: str | None
) -> bool:
    """True when the signature matches and the URL has not expired."""
    if not expires or not signature or not expires.isdigit():
        return False
    if int(expires) < time.time():
        return False
    expected = _signature(secret, method, path, int(expires))
    return hmac.compare_digest(expected, signature)
