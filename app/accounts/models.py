from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import text

from app.database import Base, UTCDateTime, utc_now


class UserStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    DISABLED = "disabled"


class PersonRole(StrEnum):
    """What a person may do besides using their own grants (see ADR 0012)."""

    RESEARCHER = "researcher"
    STEWARD = "steward"
    ADMIN = "admin"


#: Which status changes an admin may make.
TRANSITIONS = {
    UserStatus.PENDING: {UserStatus.ACTIVE, UserStatus.REJECTED},
    UserStatus.ACTIVE: {UserStatus.DISABLED},
    UserStatus.DISABLED: {UserStatus.ACTIVE},
    UserStatus.REJECTED: {UserStatus.ACTIVE},
}


class User(Base):
    """A person's account; a person is identified by (oidc_issuer, oidc_subject).

    Accounts made before sign-in through a provider (signup, `invoke create-user`)
    have no subject until they are linked; among those the e-mail is unique.
    """

    __tablename__ = "user_account"
    __table_args__ = (
        UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_user_account_identity"),
        Index(
            "uq_user_account_unlinked_email",
            "email_key",
            unique=True,
            sqlite_where=text("oidc_subject IS NULL"),
            postgresql_where=text("oidc_subject IS NULL"),
        ),
    )

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    name: Mapped[str] = mapped_column(String(256))
    title: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320))
    #: The e-mail address lower-cased, for lookups and for the unlinked-account index.
    email_key: Mapped[str] = mapped_column(String(320), index=True)
    oidc_issuer: Mapped[str | None] = mapped_column(String(512))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    #: Whether the provider said, at the last sign-in, that it verified the e-mail.
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16), default=PersonRole.RESEARCHER.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(256))
    #: Access tokens issued and browser sessions signed in before this moment are refused
    #: (set on disable, reject and second-factor resets; see app/accounts/credentials.py).
    credentials_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The person's Crypt4GH public key (base64 of 32 bytes): DRS downloads are sealed to it.
    crypt4gh_public_key: Mapped[str | None] = mapped_column(String(64))

    @property
    def is_admin(self) -> bool:
        return self.role == PersonRole.ADMIN

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE

    @property
    def is_blocked(self) -> bool:
        """Disabled or rejected: what the account held is refused everywhere."""
        return self.status in (UserStatus.DISABLED, UserStatus.REJECTED)


class AccountEvent(Base):
    """One approval, rejection, status or role change: who, when, through what."""

    __tablename__ = "account_event"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    #: `user:<id>`, `application:<name>`, `slack:<user id>`, `operator:invoke`, ...
    actor: Mapped[str] = mapped_column(String(256))
    #: web, slack, cli, api or sign-in.
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)


class ServiceMilestone(Base):
    """Something that happened once in the life of this service and must never again.

    `first_admin`: some account has been an admin, so `INITIAL_ADMIN_EMAIL` makes
    nobody admin any more. Kept apart from the accounts, so that disabling, demoting
    or deleting one cannot undo it.
    """

    __tablename__ = "service_milestone"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    detail: Mapped[str] = mapped_column(Text, default="")


class RefreshToken(Base):
    """A long-lived credential, stored as its SHA-256 only; each use replaces it.

    Tokens replacing one another share a `family_id`: presenting a token that was
    already used revokes the whole family (it was copied).
    """

    __tablename__ = "refresh_token"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    #: When the family's first token was made; every successor keeps it (absolute age).
    family_created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    #: Made from a session that had passed the second factor; its access tokens say so.
    after_second_factor: Mapped[bool] = mapped_column(Boolean, default=False)
