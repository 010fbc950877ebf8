"""Users' Crypt4GH (X25519) public keys, and sealing secrets to them."""

import base64
import binascii
import re

from nacl.public import PublicKey, SealedBox

KEY_LENGTH = 32
_PEM_MARKERS = re.compile(r"-----(BEGIN|END) CRYPT4GH PUBLIC KEY-----")
_LOOKS_PRIVATE = re.compile(r"PRIVATE", re.IGNORECASE)


def normalise_public_key(text: str) -> str:
    """The bare base64 form of a Crypt4GH public key, or ValueError.

    Accepts the key file's content (PEM-style markers are stripped) and refuses
    anything that announces itself as a private key.
    """
    if _LOOKS_PRIVATE.search(text):
        raise ValueError("this looks like a private key; send the public key only")
    bare = "".join(_PEM_MARKERS.sub("", text).split())
    try:
        raw = base64.b64decode(bare, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key is not valid base64") from None
    if len(raw) != KEY_LENGTH:
        raise ValueError(f"the key must be {KEY_LENGTH} bytes, not {len(raw)}")
    return bare


def seal(secret: str, public_key: str) -> str:
    """`secret` encrypted so that only the holder of the private key reads it.

    NaCl sealed box (X25519 + XSalsa20-Poly1305), standard base64, as the GHGA
    connector expects.
    """
    box = SealedBox(PublicKey(base64.b64decode(public_key)))
    return base64.b64encode(box.encrypt(secret.encode())).decode()
