from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utc_now


class IvaType(StrEnum):
    PHONE = "phone"
    FAX = "fax"
    POSTAL_ADDRESS = "postal_address"
    IN_PERSON = "in_person"


class IvaState(StrEnum):
    UNVERIFIED = "unverified"
    CODE_REQUESTED = "code_requested"
    CODE_CREATED = "code_created"
    CODE_TRANSMITTED = "code_transmitted"
    VERIFIED = "verified"


#: Which state each step may start from (GHGA's lifecycle). Unverifying is open
#: to a steward in every state and is not listed here.
STEP_FROM = {
    "request_code": {IvaState.UNVERIFIED, IvaState.CODE_REQUESTED},
    # A steward may make a new code while the last one is still out.
    "create_code": {IvaState.CODE_REQUESTED, IvaState.CODE_CREATED, IvaState.CODE_TRANSMITTED},
    "code_transmitted": {IvaState.CODE_CREATED},
    "verify_code": {IvaState.CODE_TRANSMITTED},
}


class Iva(Base):
    """An independent verification address: a channel outside this system.

    A steward sends a one-time code through it; the person proves they received
    it. Download grants made for people are bound to one and work only while it
    is `verified`.
    """

    __tablename__ = "iva"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid4)
    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16), default=IvaState.UNVERIFIED.value)
    #: SHA-256 of the verification code while one is out; NULL otherwise.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    #: Wrong codes entered since the code was created.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When the steward created the code that is out (it expires IVA_CODE_VALID_DAYS
    #: later); NULL while none is.
    code_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
