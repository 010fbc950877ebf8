"""The storage's Crypt4GH key pair: uploads are encrypted to its public key."""

import base64
import binascii
from dataclasses import dataclass

from flask import current_app
from nacl.public import PrivateKey

from app.config import Settings, SettingsError
from app.instance_secrets import instance_secret


@dataclass(frozen=True)
class StorageKeys:
    private: bytes
    public: bytes

    @property
    def public_base64(self) -> str:
        return base64.b64encode(self.public).decode()


def load_storage_keys(settings: Settings, instance_path: str) -> StorageKeys:
    text = (
        settings.storage_crypt4gh_private_key.get_secret_value()
        if settings.storage_crypt4gh_private_key
        else instance_secret(
            instance_path,
            "STORAGE_CRYPT4GH_PRIVATE_KEY",
            settings.deployment,
            lambda: base64.b64encode(bytes(PrivateKey.generate())).decode(),
        )
    )
    try:
        private = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError("Invalid setting STORAGE_CRYPT4GH_PRIVATE_KEY: not base64") from None
    if len(private) != 32:
        raise SettingsError("Invalid setting STORAGE_CRYPT4GH_PRIVATE_KEY: must be 32 bytes")
    return StorageKeys(private=private, public=bytes(PrivateKey(private).public_key))


def storage_keys() -> StorageKeys:
    return current_app.extensions["storage_keys"]
