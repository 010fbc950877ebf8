"""Tables for applications, permissions and their assignment.

`define_role_models(Base)` declares the three tables on the host's declarative
base, so they live in the host's metadata and its migrations pick them up.
Call it once per base.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from roles.columns import UTCDateTime, utc_now


@dataclass(frozen=True)
class RoleModels:
    application: type
    system_permission: type
    application_system_permission: type


def define_role_models(base: type) -> RoleModels:
    class SystemPermission(base):
        """One permission an application can hold; `id` is the enum value."""

        __tablename__ = "system_permission"

        id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
        name: Mapped[str] = mapped_column(String(64), unique=True)

    class ApplicationSystemPermission(base):
        __tablename__ = "application_system_permission"

        application_id: Mapped[int] = mapped_column(
            ForeignKey("application.id", ondelete="CASCADE"), primary_key=True
        )
        system_permission_id: Mapped[int] = mapped_column(
            ForeignKey("system_permission.id", ondelete="CASCADE"), primary_key=True
        )
        system_permission: Mapped[SystemPermission] = relationship(lazy="joined")

    class Application(base):
        """A client of the API, known by the hash of its key."""

        __tablename__ = "application"
        __table_args__ = (
            # A name can be reused once its earlier key is revoked (key rotation).
            Index(
                "uq_application_live_name",
                "name",
                unique=True,
                postgresql_where=text("revoked_at IS NULL"),
                sqlite_where=text("revoked_at IS NULL"),
            ),
        )

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(120))
        key_prefix: Mapped[str] = mapped_column(String(16))
        key_hash: Mapped[str] = mapped_column(String(64), unique=True)
        created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
        expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
        revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
        last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
        permission_links: Mapped[list[ApplicationSystemPermission]] = relationship(
            lazy="selectin", cascade="all, delete-orphan"
        )

        @property
        def permission_names(self) -> list[str]:
            return sorted(link.system_permission.name for link in self.permission_links)

        def is_usable(self, now: datetime) -> bool:
            if self.revoked_at is not None:
                return False
            return self.expires_at is None or self.expires_at > now

    return RoleModels(Application, SystemPermission, ApplicationSystemPermission)
