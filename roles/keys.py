"""API key material: generation and hashing.

A key is shown once, at creation; only its SHA-256 digest is stored. The first
characters (the prefix) are kept in clear so operators can tell keys apart in
listings without being able to use them.
"""

import hashlib
import secrets

API_KEY_HEADER = "Workflow-API-Key"
PREFIX_LENGTH = 8
_KEY_BYTES = 32


def generate_key() -> str:
    """A new random key: 43 URL-safe characters carrying 256 bits."""
    return secrets.token_urlsafe(_KEY_BYTES)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str:
    return key[:PREFIX_LENGTH]
