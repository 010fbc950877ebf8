from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utc_now


class TotpFactor(Base):
    """A person's TOTP second factor: at most one per account.

    Secrets are kept encrypted (see `secret_box`), because verifying a code needs
    the secret itself. A key being set up is not stored here but in the browser
    session that showed it (see `enrolment`); a row exists once a factor is confirmed.
    """

    __tablename__ = "totp_factor"

    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str | None] = mapped_column(Text)
    #: Unused since enrolments are bound to their session (ADR 0014); a later
    #: migration drops the column (expand/contract).
    pending_secret: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last time step whose code was accepted: a code is good once.
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Wrong codes in a row; reset by a right one.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class RecoveryCode(Base):
    """A one-time code that stands in for the TOTP; stored as its SHA-256 only."""

    __tablename__ = "recovery_code"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
