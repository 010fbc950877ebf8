"""Models shared by many endpoints."""

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Item = TypeVar("Item")


class StrictModel(BaseModel):
    """A request model: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer has this shape."""

    detail: str | list[FieldError] = Field(
        description="What went wrong: a message, or one entry per invalid field."
    )
    code: str = Field(description="Stable machine-readable error code.")


class PageQuery(BaseModel):
    skip: int = Field(0, ge=0, le=2**31 - 1, description="Items to skip.")
    limit: int = Field(100, ge=1, le=1000, description="Largest number of items returned.")


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    total_count: int
