from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utc_now


class EventStatus(StrEnum):
    PENDING = "pending"  # waiting to be applied (or to be retried)
    APPLIED = "applied"
    SKIPPED = "skipped"  # stale: a newer state of the same key was already applied
    DEAD = "dead"  # failed every attempt; holds its key until replayed or discarded
    DISCARDED = "discarded"  # an operator gave up on it; its key flows again
    REJECTED = "rejected"  # could never be applied (unparsable, invalid); holds nothing


class InboxEvent(Base):
    """One change event, stored before it is applied; `id` is the arrival order."""

    __tablename__ = "inbox_event"
    __table_args__ = (
        Index("ix_inbox_event_key_order", "topic", "key", "id"),
        Index("ix_inbox_event_status_received", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(256))
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_from: Mapped[str] = mapped_column(String(256))


class FeedKey(Base):
    """One row per (topic, key): the lock that serialises its events, and its progress."""

    __tablename__ = "feed_key"

    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    last_sequence: Mapped[int | None] = mapped_column(BigInteger)
    last_event_id: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
