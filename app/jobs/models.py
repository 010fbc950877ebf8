from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utc_now


class JobStatus(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TRANSITIONS = {
    JobStatus.QUEUED: {JobStatus.IN_PROGRESS, JobStatus.CANCELLED},
    JobStatus.IN_PROGRESS: {JobStatus.COMPLETED, JobStatus.FAILED},
}
ACTIVE = (JobStatus.QUEUED, JobStatus.IN_PROGRESS)


class Operation(StrEnum):
    ADD = "ADD"  # import a dataset manifest from INPUT_DIR
    REMOVE = "REMOVE"  # delete a dataset
    UPLOAD_VERIFY = "UPLOAD_VERIFY"  # recorded by the system
    SWEEP = "SWEEP"  # recorded by the system


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        # At most one active job per target, whoever races to create it.
        Index(
            "uq_job_active_target",
            "target",
            unique=True,
            postgresql_where=text("status IN ('queued', 'in_progress')"),
            sqlite_where=text("status IN ('queued', 'in_progress')"),
        ),
        Index("ix_job_status_created", "status", "created_at"),
    )

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    operation: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(256), index=True)
    status: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    created_by: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class JobLogEntry(Base):
    """Append-only: what happened to a job, in order."""

    __tablename__ = "job_log_entry"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    job_id: Mapped[UUID] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    message: Mapped[str] = mapped_column(Text)


class MaintenanceChange(Base):
    """Append-only history of maintenance mode; the newest row is the current state."""

    __tablename__ = "maintenance_change"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    msg: Mapped[str] = mapped_column(Text)
    paused: Mapped[bool] = mapped_column(Boolean)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    set_by: Mapped[str] = mapped_column(String(256))
