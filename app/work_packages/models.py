from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime


class WorkPackage(Base):
    """What one user may do with one dataset or upload box, until `expires`."""

    __tablename__ = "work_package"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    type: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    full_user_name: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(String(320))
    dataset_accession: Mapped[str | None] = mapped_column(String(128))
    research_data_upload_box_id: Mapped[UUID | None] = mapped_column(Uuid)
    file_upload_box_id: Mapped[UUID | None] = mapped_column(Uuid)
    user_public_crypt4gh_key: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    expires: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class WorkPackageFile(Base):
    """A file of a download package, as the dataset listed it at creation."""

    __tablename__ = "work_package_file"

    work_package_id: Mapped[UUID] = mapped_column(
        ForeignKey("work_package.id", ondelete="CASCADE"), primary_key=True
    )
    accession: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    extension: Mapped[str] = mapped_column(String(64))
