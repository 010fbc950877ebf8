from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import BigInteger, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utc_now


class DrsEnvelope(Base):
    """One person's Crypt4GH header for one stored file, and what the stream it opens is.

    The stream a DRS access URL serves is this header followed by the file's stored
    data segments; `size` and `sha256` describe that whole stream and are known once a
    worker has read it (NULL until then: the object answers 202). One per (person,
    file, public key): a new key on the profile makes a new envelope.
    """

    __tablename__ = "drs_envelope"
    __table_args__ = (
        UniqueConstraint("user_id", "file_id", "public_key", name="uq_drs_envelope_recipient"),
    )

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    user_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    file_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    public_key: Mapped[str] = mapped_column(String(64))
    header: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
