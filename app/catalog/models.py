from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import Base, UTCDateTime, utc_now


class Dataset(Base):
    __tablename__ = "dataset"

    accession: Mapped[str] = mapped_column(String(128), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(16))
    dac_alias: Mapped[str] = mapped_column(String(256))
    dac_email: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    files: Mapped[list["DatasetFile"]] = relationship(
        order_by="DatasetFile.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
    )


class DatasetFile(Base):
    __tablename__ = "dataset_file"

    dataset_accession: Mapped[str] = mapped_column(
        ForeignKey("dataset.accession", ondelete="CASCADE"), primary_key=True
    )
    accession: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)
    extension: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)


class AccessionMap(Base):
    """Which stored file (by id) a public file accession stands for."""

    __tablename__ = "accession_map"

    accession: Mapped[str] = mapped_column(String(128), primary_key=True)
    file_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class UploadBox(Base):
    """A research data upload box and the file upload box it owns."""

    __tablename__ = "upload_box"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    file_upload_box_id: Mapped[UUID] = mapped_column(Uuid, unique=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    storage_alias: Mapped[str] = mapped_column(String(128))
    #: Bytes (decrypted, across all its files) the box may hold; None: no limit.
    max_size: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
