"""Issuing, checking and revoking application keys."""

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from roles.columns import utc_now
from roles.errors import ApplicationNameTaken, AuthenticationFailed
from roles.keys import generate_key, hash_key, key_prefix
from roles.models import RoleModels

# Recording every single use would turn each read into a write; once a minute
# is enough to tell live keys from forgotten ones.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    application: object
    key: str


class ApplicationStore:
    """Applications and their keys, in the host's database.

    The store never commits: the caller's unit of work does. The one exception is
    the `last_used_at` stamp, written in its own short transaction so that a
    read-only request does not have to commit.
    """

    def __init__(
        self,
        models: RoleModels,
        session: Callable[[], Session],
        permissions: type[Enum],
    ):
        self.models = models
        self._session = session
        self.permissions = permissions

    @property
    def session(self) -> Session:
        return self._session()

    def create(
        self,
        name: str,
        permissions: Iterable[Enum],
        expires_at: datetime | None = None,
    ) -> IssuedKey:
        """A new application with a new key; the key is in the result only."""
        wanted = set(permissions)
        if not wanted:
            raise ValueError("an application needs at least one permission")
        if self._live_named(name) is not None:
            raise ApplicationNameTaken(f"application {name!r} already has a live key")
        self._ensure_permission_rows()
        key = generate_key()
        application = self.models.application(
            name=name,
            key_prefix=key_prefix(key),
            key_hash=hash_key(key),
            expires_at=expires_at,
        )
        application.permission_links = [
            self.models.application_system_permission(system_permission_id=p.value)
            for p in sorted(wanted, key=lambda p: p.value)
        ]
        self.session.add(application)
        self.session.flush()
        return IssuedKey(application, key)

    def authenticate(self, key: str | None):
        """The live application holding `key`, or AuthenticationFailed."""
        if not key:
            raise AuthenticationFailed("Missing API key")
        digest = hash_key(key)
        application = self.session.scalars(
            select(self.models.application).where(self.models.application.key_hash == digest)
        ).one_or_none()
        # The lookup goes by digest; compare the digests again in constant time
        # so that no code path branches on a byte-by-byte string comparison.
        if application is None or not hmac.compare_digest(application.key_hash, digest):
            raise AuthenticationFailed("Invalid API key")
        now = utc_now()
        if not application.is_usable(now):
            raise AuthenticationFailed("API key revoked or expired")
        self._record_use(application, now)
        return application

    def granted(self, application) -> set[Enum]:
        return {
            self.permissions(link.system_permission_id) for link in application.permission_links
        }

    def revoke(self, name: str) -> int:
        """Revoke every live key of the application called `name`."""
        result = self.session.execute(
            update(self.models.application)
            .where(
                self.models.application.name == name,
                self.models.application.revoked_at.is_(None),
            )
            .values(revoked_at=utc_now())
        )
        return result.rowcount

    def list(self, include_revoked: bool = False) -> list:
        query = select(self.models.application).order_by(
            self.models.application.name, self.models.application.id
        )
        if not include_revoked:
            query = query.where(self.models.application.revoked_at.is_(None))
        return list(self.session.scalars(query))

    def _live_named(self, name: str):
        # The partial unique index still decides a race between two creators.
        return self.session.scalars(
            select(self.models.application).where(
                self.models.application.name == name,
                self.models.application.revoked_at.is_(None),
            )
        ).first()

    def _ensure_permission_rows(self) -> None:
        existing = set(self.session.scalars(select(self.models.system_permission.id)))
        for permission in self.permissions:
            if permission.value not in existing:
                self.session.add(
                    self.models.system_permission(id=permission.value, name=permission.name)
                )
        self.session.flush()

    def _record_use(self, application, now: datetime) -> None:
        last = application.last_used_at
        if last is not None and now - last < LAST_USED_RESOLUTION:
            return
        engine = self.session.get_bind()
        with engine.begin() as connection:
            connection.execute(
                update(self.models.application)
                .where(self.models.application.id == application.id)
                .values(last_used_at=now)
            )
