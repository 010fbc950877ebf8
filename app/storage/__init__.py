"""Object storage for file content: the local filesystem (default) or S3."""

from flask import current_app

from app.storage.backend import ObjectStore


def object_store() -> ObjectStore:
    return current_app.extensions["object_store"]


def make_object_store(settings, instance_path: str, secret_key: str) -> ObjectStore:
    from pathlib import Path

    if settings.storage_backend == "s3":
        from app.storage.s3 import S3Store

        return S3Store(settings)
    from app.storage.local import LocalStore

    root = settings.storage_path or Path(instance_path) / "storage"
    return LocalStore(
        settings.storage_alias,
        Path(root),
        str(settings.public_base_url).rstrip("/"),
        secret_key,
        settings.signed_url_valid_seconds,
    )
