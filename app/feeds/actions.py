"""What people, keys and operators do with the feeds' inbox, whatever the channel."""

from app import audit_log
from app.authz import Actor, Permission
from app.database import utc_now
from app.feeds import intake, services
from app.feeds.dispatch import enqueue_keys
from app.feeds.models import InboxEvent
from app.feeds.schemas import EventEnvelope, IngestResult
from app.unit_of_work import after_commit, commit


def publish_events(actor: Actor, events: list[EventEnvelope]) -> list[IngestResult]:
    """Store the (validated) events; workers apply the new ones after the commit.

    Each stored event names its publisher (`received_from`): that is its record.
    """
    actor.require(Permission.FEED_PUBLISHER)
    results = intake.ingest(events, received_from=actor.label)
    accepted = {r.event_id for r in results if r.status == "accepted"}
    after_commit(enqueue_keys, services.distinct_keys(e for e in events if e.event_id in accepted))
    commit()
    return results


def requeue_waiting_keys(actor: Actor) -> int:
    """Hand every key with long-waiting events to the workers (what beat does on its
    own); changes nothing stored, so it leaves no audit line. How many were enqueued."""
    actor.require(Permission.DATA_STEWARD)
    return enqueue_keys(services.keys_waiting(utc_now()))


def replay_event(actor: Actor, event_id: str) -> InboxEvent:
    """A dead event becomes pending again and is handed to the workers (after its fix)."""
    return _settle(actor, event_id, services.replay, "event_replayed")


def discard_event(actor: Actor, event_id: str) -> InboxEvent:
    """Give up on a dead event; the later events of its key are handed to the workers."""
    return _settle(actor, event_id, services.discard, "event_discarded")


def _settle(actor: Actor, event_id: str, change, action: str) -> InboxEvent:
    # Stewards own the feeds' data; an ADMIN key or an admin holds every permission.
    actor.require(Permission.DATA_STEWARD)
    event = change(event_id)
    audit_log.record(actor, action, f"{event.event_id} ({event.topic}/{event.key})")
    after_commit(enqueue_keys, [(event.topic, event.key)])
    commit()
    return event
