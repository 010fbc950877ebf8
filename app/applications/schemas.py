from datetime import datetime

from pydantic import BaseModel, Field


class ApplicationIdentity(BaseModel):
    """The application that made the call, as its key identifies it."""

    name: str
    permissions: list[str] = Field(description="Permission names, sorted.")
    key_prefix: str = Field(description="First characters of the key, for telling keys apart.")
    created_at: datetime
    expires_at: datetime | None
