from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utc_now


class UploadState(StrEnum):
    INIT = "init"  # open for parts
    INBOX = "inbox"  # closed by the client; being verified
    COMPLETED = "completed"  # verified and stored
    FAILED = "failed"  # verification failed; the alias may be uploaded again
    CANCELLED = "cancelled"  # deleted before it completed


LIVE_STATES = (UploadState.INIT, UploadState.INBOX, UploadState.COMPLETED)


class FileUpload(Base):
    """One file's journey into a file upload box; its id becomes the file id."""

    __tablename__ = "file_upload"
    __table_args__ = (
        # One live upload per alias in a box; failed and cancelled ones make room.
        Index(
            "uq_file_upload_live_alias",
            "box_id",
            "alias",
            unique=True,
            postgresql_where=text("state IN ('init', 'inbox', 'completed')"),
            sqlite_where=text("state IN ('init', 'inbox', 'completed')"),
        ),
    )

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    box_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    alias: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16))
    decrypted_size: Mapped[int] = mapped_column(BigInteger)
    encrypted_size: Mapped[int] = mapped_column(BigInteger)
    part_size: Mapped[int] = mapped_column(BigInteger)
    storage_alias: Mapped[str] = mapped_column(String(64))
    storage_upload_id: Mapped[str] = mapped_column(String(1024))
    decrypted_sha256: Mapped[str | None] = mapped_column(String(64))
    #: The client's part checksums, kept at close (listed with `with_checksums`).
    encrypted_parts_md5: Mapped[list[str] | None] = mapped_column(JSON)
    encrypted_parts_sha256: Mapped[list[str] | None] = mapped_column(JSON)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StoredFile(Base):
    """A file's verified content: Crypt4GH data segments and their sealed data key."""

    __tablename__ = "stored_file"

    file_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    storage_alias: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(256))
    #: Size of the encrypted data segments (what the download URL serves).
    content_size: Mapped[int] = mapped_column(BigInteger)
    decrypted_size: Mapped[int] = mapped_column(BigInteger)
    decrypted_sha256: Mapped[str] = mapped_column(String(64))
    #: The file's data key, sealed to the storage's Crypt4GH public key.
    sealed_data_key: Mapped[str] = mapped_column(String(128))
    segment_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
