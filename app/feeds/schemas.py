from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, RootModel, StringConstraints, model_validator

from app.feeds.models import EventStatus
from app.rest import Page, PageQuery, StrictModel

EventId = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@/-]+$")
]


class EventEnvelope(StrictModel):
    """A change event. `payload` follows the GHGA event schema of its topic and type."""

    event_id: EventId = Field(description="Unique per event; a repeat is a duplicate.")
    topic: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=200)
    key: str = Field(min_length=1, max_length=256, description="The resource's id.")
    sequence: int | None = Field(
        None,
        ge=0,
        le=2**63 - 1,
        description="Optional producer order (e.g. a Kafka offset). An event whose "
        "sequence is not above the last applied one of its key is skipped as stale.",
    )
    payload: dict


class EventBatch(RootModel[list[EventEnvelope]]):
    """A list of events; a single event object is taken as a list of one."""

    @model_validator(mode="before")
    @classmethod
    def _one_event_is_a_batch_of_one(cls, value):
        return [value] if isinstance(value, dict) else value

    def events(self) -> list[EventEnvelope]:
        return self.root


class IngestResult(BaseModel):
    event_id: str
    status: Literal["accepted", "duplicate"]


class IngestResponse(BaseModel):
    results: list[IngestResult]


class EventView(BaseModel):
    id: int
    event_id: str
    topic: str
    type: str
    key: str
    sequence: int | None
    status: EventStatus
    attempts: int
    last_error: str | None
    received_at: datetime
    next_attempt_at: datetime
    finished_at: datetime | None
    received_from: str

    @classmethod
    def of(cls, event) -> "EventView":
        return cls.model_validate(event, from_attributes=True)


class EventPage(Page[EventView]):
    pass


class EventQuery(PageQuery):
    status: EventStatus | None = None
    topic: str | None = None
    key: str | None = None


class EventPath(BaseModel):
    event_id: EventId
