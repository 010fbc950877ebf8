"""Messages of the IVA API (GHGA's shapes, lower-case enum values)."""

from datetime import datetime
from uuid import UUID

from pydantic import UUID4, BaseModel, Field, RootModel, field_validator

from app.ivas.models import IvaState, IvaType
from app.rest import StrictModel


class IvaCreation(StrictModel):
    type: IvaType
    value: str = Field(
        min_length=1,
        max_length=512,
        description="Phone or fax number, postal address, or a note on where to meet. A "
        "phone number needs its country code and is stored in E.164 (`+4962215420`).",
    )

    @field_validator("value")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class IvaCreated(BaseModel):
    id: UUID


class IvaView(BaseModel):
    id: UUID
    user_id: UUID
    type: IvaType
    value: str
    state: IvaState
    created: datetime
    changed: datetime

    @classmethod
    def of(cls, iva) -> "IvaView":
        return cls(
            id=iva.id,
            user_id=iva.user_id,
            type=iva.type,
            value=iva.value,
            state=iva.state,
            created=iva.created_at,
            changed=iva.changed_at,
        )


class IvaList(RootModel[list[IvaView]]):
    pass


class VerificationCode(StrictModel):
    verification_code: str = Field(min_length=1, max_length=64)


class CreatedCode(BaseModel):
    verification_code: str = Field(description="Shown only here; send it through the address.")


class UserPath(BaseModel):
    user_id: UUID4


class UserIvaPath(BaseModel):
    user_id: UUID4
    iva_id: UUID4


class IvaPath(BaseModel):
    iva_id: UUID4
