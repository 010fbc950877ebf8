"""Creating, revoking and listing application keys (for operators' tasks)."""

from datetime import datetime

from app.authz import Permission
from app.authz.application_keys import application_store
from roles import IssuedKey


def parse_permissions(names: list[str]) -> list[Permission]:
    unknown = [name for name in names if name.upper() not in Permission.__members__]
    if unknown:
        known = ", ".join(Permission.__members__)
        raise ValueError(f"unknown permission(s) {', '.join(unknown)}; known: {known}")
    return [Permission[name.upper()] for name in names]


def create_application_key(
    name: str, permission_names: list[str], expires_at: datetime | None = None
) -> IssuedKey:
    name = name.strip()
    if not name:
        raise ValueError("an application needs a name")
    return application_store.create(name, parse_permissions(permission_names), expires_at)


def revoke_application_key(name: str) -> int:
    return application_store.revoke(name)


def list_applications(include_revoked: bool = False) -> list:
    return application_store.list(include_revoked)
