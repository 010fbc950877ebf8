"""Crypt4GH pieces the transfer needs: headers (envelopes) and data segments.

A Crypt4GH file is a header, which carries the data key encrypted for each
recipient, followed by 64 KiB plaintext segments each encrypted with
ChaCha20-Poly1305 (12-byte nonce + ciphertext + 16-byte tag). The data segments
are kept as uploaded; only headers are made anew, one per downloading user.
"""

import os
from collections.abc import Iterator
from typing import BinaryIO

import crypt4gh.header
import crypt4gh.lib
from nacl.bindings import (
    crypto_aead_chacha20poly1305_ietf_decrypt,
    crypto_aead_chacha20poly1305_ietf_encrypt,
)

SEGMENT_SIZE = crypt4gh.lib.SEGMENT_SIZE
CIPHER_SEGMENT_SIZE = crypt4gh.lib.CIPHER_SEGMENT_SIZE
NONCE_SIZE = 12
X25519_CHACHA20_POLY1305 = 0


class InvalidCrypt4GH(ValueError):
    pass


def read_data_key(stream: BinaryIO, private_key: bytes) -> bytes:
    """Read the header at the start of `stream` and return its single data key.

    The stream is left at the first data segment.
    """
    try:
        data_keys, edit_list = crypt4gh.header.deconstruct(
            stream, [(X25519_CHACHA20_POLY1305, private_key, None)]
        )
    except (ValueError, EOFError, AssertionError) as error:
        raise InvalidCrypt4GH(f"the Crypt4GH header cannot be read: {error}") from None
    if edit_list is not None:
        raise InvalidCrypt4GH("edit lists are not supported")
    if len(data_keys) != 1:
        raise InvalidCrypt4GH(f"expected one data key, found {len(data_keys)}")
    return bytes(data_keys[0])  # the library hands out a bytearray; nacl wants bytes


def decrypted_segments(stream: BinaryIO, data_key: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(encrypted segment, its plaintext) pairs until the stream ends."""
    while segment := stream.read(CIPHER_SEGMENT_SIZE):
        if len(segment) <= NONCE_SIZE + 16:
            raise InvalidCrypt4GH("a data segment is truncated")
        nonce, ciphertext = segment[:NONCE_SIZE], segment[NONCE_SIZE:]
        try:
            plaintext = crypto_aead_chacha20poly1305_ietf_decrypt(ciphertext, None, nonce, data_key)
        except Exception:  # nacl raises CryptoError; anything else is as fatal
            raise InvalidCrypt4GH("a data segment does not decrypt") from None
        yield segment, plaintext


def encrypted_segments(plaintext_chunks: Iterator[bytes], data_key: bytes) -> Iterator[bytes]:
    """Encrypt a plaintext stream into Crypt4GH data segments."""
    pending = b""
    for chunk in plaintext_chunks:
        pending += chunk
        while len(pending) >= SEGMENT_SIZE:
            yield _encrypt_segment(pending[:SEGMENT_SIZE], data_key)
            pending = pending[SEGMENT_SIZE:]
    if pending:
        yield _encrypt_segment(pending, data_key)


def _encrypt_segment(plaintext: bytes, data_key: bytes) -> bytes:
    nonce = os.urandom(NONCE_SIZE)
    return nonce + crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, None, nonce, data_key)


def envelope(data_key: bytes, sender_private_key: bytes, recipient_public_key: bytes) -> bytes:
    """A Crypt4GH header giving the recipient the data key."""
    packet = crypt4gh.header.make_packet_data_enc(X25519_CHACHA20_POLY1305, data_key)
    packets = crypt4gh.header.encrypt(
        packet, [(X25519_CHACHA20_POLY1305, sender_private_key, recipient_public_key)]
    )
    return crypt4gh.header.serialize(packets)
