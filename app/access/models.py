from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utc_now


class AccessGrant(Base):
    """A user's right to download a dataset or to upload into a box, for a period.

    Exactly one of `dataset_accession` (download) and `upload_box_id` (upload) is
    set. Grants are never deleted, only revoked, so that what was allowed when
    stays on record. Targets are not foreign keys: a grant may outlive, or
    precede, the catalog entry it names.
    """

    __tablename__ = "access_grant"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'download' AND dataset_accession IS NOT NULL AND upload_box_id IS NULL)"
            " OR (kind = 'upload' AND upload_box_id IS NOT NULL AND dataset_accession IS NULL)",
            name="one_target",
        ),
        CheckConstraint("valid_until > valid_from", name="valid_period"),
        Index("ix_access_grant_download", "user_id", "dataset_accession"),
        Index("ix_access_grant_upload", "user_id", "upload_box_id"),
    )

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[UUID] = mapped_column(Uuid)
    dataset_accession: Mapped[str | None] = mapped_column(String(128))
    upload_box_id: Mapped[UUID | None] = mapped_column(Uuid)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    granted_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    #: The verification address the grant is bound to: the grant works only while
    #: it is verified. Not a foreign key on purpose: a deleted address must stop
    #: the grant, not unbind it. NULL for grants made by applications and before.
    iva_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)

    def is_current(self, now: datetime) -> bool:
        return self.revoked_at is None and self.valid_from <= now < self.valid_until


class AccessRequest(Base):
    """A user asking a data steward for download or upload access."""

    __tablename__ = "access_request"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'download' AND dataset_accession IS NOT NULL AND upload_box_id IS NULL)"
            " OR (kind = 'upload' AND upload_box_id IS NOT NULL AND dataset_accession IS NULL)",
            name="one_target",
        ),
        Index("ix_access_request_status_created", "status", "created_at"),
    )

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    user_email: Mapped[str] = mapped_column(String(320))
    dataset_accession: Mapped[str | None] = mapped_column(String(128))
    upload_box_id: Mapped[UUID | None] = mapped_column(Uuid)
    note: Mapped[str] = mapped_column(Text, default="")
    wished_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wished_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(256))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    grant_id: Mapped[UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    #: When a steward last asked the requester to add a verification address (a
    #: download request cannot be allowed while the requester has none).
    address_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
