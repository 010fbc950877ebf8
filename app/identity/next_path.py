"""Where to go after signing in: a path on this site, never another site."""

from urllib.parse import urlsplit

HOME = "/"


def safe_next(value: str | None) -> str:
    """`value` when it is a local path (with query), else `/`.

    Refused: absolute URLs, scheme-relative `//host`, backslashes (browsers read
    `/\\host` as `//host`) and control characters.
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return HOME
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME
    return value
