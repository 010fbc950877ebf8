"""URLs that grant one method on one path until they expire: HMAC-SHA256 signed.

A URL may also carry a signed `max_bytes`: the most its body may hold.
"""

import hashlib
import hmac
import time
from urllib.parse import urlencode


def _signature(secret: str, method: str, path: str, expires: int, max_bytes: str | None) -> str:
    message = f"{method.upper()}\n{path}\n{expires}"
    if max_bytes is not None:
        message += f"\n{max_bytes}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign_url(
    base_url: str,
    secret: str,
    method: str,
    path: str,
    valid_seconds: int,
    max_bytes: int | None = None,
) -> str:
    expires = int(time.time()) + valid_seconds
    limit = None if max_bytes is None else str(max_bytes)
    query = {} if limit is None else {"max_bytes": limit}
    query |= {"expires": expires, "signature": _signature(secret, method, path, expires, limit)}
    return f"{base_url.rstrip('/')}{path}?{urlencode(query)}"


def signature_is_valid(
    secret: str,
    method: str,
    path: str,
    expires: str | None,
    signature: str | None,
    max_bytes: str | None = None,
) -> bool:
    """True when the signature (over `max_bytes` too, if given) matches and is not expired."""
    if not expires or not signature or not expires.isdigit():
        return False
    if max_bytes is not None and not max_bytes.isdigit():
        return False
    if int(expires) < time.time():
        return False
    expected = _signature(secret, method, path, int(expires), max_bytes)
    return hmac.compare_digest(expected, signature)
