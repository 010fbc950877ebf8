"""Change events in (`FEED_PUBLISHER`), and the inbox for operators (`DATA_STEWARD`)."""

from flask import Blueprint, current_app

from app.authz import Actor, Permission
from app.authz.api import permissions_required, requires
from app.errors import DomainError, body_limit
from app.feeds import actions, services
from app.feeds.schemas import (
    EventBatch,
    EventPage,
    EventPath,
    EventQuery,
    EventView,
    IngestResponse,
)
from app.feeds.validation import validate_batch
from app.rest import json_response, operation

bp = Blueprint("feeds", __name__)


class TooManyEvents(DomainError):
    """Too many events in one request."""

    status, code = 413, "too_many_events"


@bp.post("/events")
@requires(Permission.FEED_PUBLISHER)
@operation(
    "Publish change events",
    description="One event or a list. The whole batch is validated first: any invalid "
    "event is a 422 naming it, and nothing is stored. Valid events are stored, then "
    "applied by workers in order per (topic, key). A repeated `event_id` answers "
    "`duplicate` and changes nothing.",
    tags=["feeds"],
    body=EventBatch,
    responses={202: IngestResponse, 413: None},
)
@body_limit("events_max_body_bytes")
def publish_events(actor: Actor, body: EventBatch):
    events = body.events()
    limit = current_app.extensions["settings"].events_max_batch
    if len(events) > limit:
        raise TooManyEvents(f"{len(events)} events in one request; at most {limit}")
    # `operation` refused a body with unstorable text before it was parsed.
    validate_batch(events, payload_text_checked=True)
    results = actions.publish_events(actor, events)
    return json_response(IngestResponse(results=results), 202)


@bp.get("/events")
@permissions_required([Permission.DATA_STEWARD, Permission.FEED_PUBLISHER])
@operation(
    "Inbox events, oldest first",
    description="Filter by `status` (pending, applied, skipped, dead, discarded, rejected), "
    "`topic`, `key`.",
    tags=["feeds"],
    query=EventQuery,
    responses={200: EventPage},
)
def list_events(query: EventQuery):
    items, total = services.list_events(query)
    return json_response(EventPage(items=[EventView.of(e) for e in items], total_count=total))


@bp.get("/events/<event_id>")
@permissions_required([Permission.DATA_STEWARD, Permission.FEED_PUBLISHER])
@operation("One inbox event", tags=["feeds"], path=EventPath, responses={200: EventView})
def get_event(event_id: str):
    return json_response(EventView.of(services.get_event(event_id)))


@bp.post("/events/<event_id>/replay")
@requires(Permission.DATA_STEWARD)  # the door; the action holds the rule
@operation(
    "Replay a dead event",
    description="It becomes pending with fresh attempts and is applied before the later "
    "events of its key.",
    tags=["feeds"],
    path=EventPath,
    responses={200: EventView, 409: None},
)
def replay_event(actor: Actor, event_id: str):
    event = actions.replay_event(actor, event_id)
    return json_response(EventView.of(event))


@bp.post("/events/<event_id>/discard")
@requires(Permission.DATA_STEWARD)
@operation(
    "Discard a dead event",
    description="It is never applied; the later events of its key flow again.",
    tags=["feeds"],
    path=EventPath,
    responses={200: EventView, 409: None},
)
def discard_event(actor: Actor, event_id: str):
    event = actions.discard_event(actor, event_id)
    return json_response(EventView.of(event))
