"""Work package access tokens (WPATs): 24 random letters and digits.

Only the SHA-256 of a WPAT is stored; the user receives it sealed to their
Crypt4GH key and presents it as a bearer credential.
"""

import hashlib
import hmac
import secrets
import string

ALPHABET = string.ascii_letters + string.digits
LENGTH = 24


def generate_access_token() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def hash_access_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_token_matches(token: str, stored_hash: str) -> bool:
    """Constant-time comparison of the token's hash with the stored one."""
    return hmac.compare_digest(hash_access_token(token), stored_hash)
