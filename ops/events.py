"""Operator commands: GHGA's events in the inbox (listing, dead events, the consumer)."""

import sys

from invoke import Exit, task

from ops.command import app_context, number, operator_command


@task(help={"status": "pending, applied, skipped, dead or discarded", "limit": "most shown"})
@operator_command()
def events(c, status="", limit="50"):
    """List inbox events, oldest first."""
    from app.feeds.schemas import EventQuery
    from app.feeds.services import list_events

    query = EventQuery(status=status or None, limit=number(limit, "limit"))
    with app_context():
        items, total = list_events(query)
        for event in items:
            error = f"\t{event.last_error}" if event.last_error else ""
            print(
                f"{event.event_id}\t{event.topic}/{event.type}\t{event.key}\t{event.status}"
                f"\tattempts {event.attempts}{error}"
            )
    print(f"{len(items)} of {total} event(s)", file=sys.stderr)


def _finish_dead_event(action: str, event_id: str) -> None:
    from app.authz import Actor
    from app.extensions import db
    from app.feeds import actions, services

    with app_context():
        getattr(actions, f"{action}_event")(Actor.operator(), event_id)
        # Eagerly (no broker) the event is applied by now; with workers it is pending.
        db.session.expire_all()
        print(f"{event_id}: {services.get_event(event_id).status}")


@task(help={"event_id": "the dead event's event_id"})
@operator_command()
def replay_event(c, event_id):
    """Make a dead event pending again (after fixing its cause)."""
    _finish_dead_event("replay", event_id)


@task(help={"event_id": "the dead event's event_id"})
@operator_command()
def discard_event(c, event_id):
    """Give up on a dead event so the later events of its key flow again."""
    _finish_dead_event("discard", event_id)


@task
@operator_command()
def requeue_events(c):
    """Hand every key with waiting events to the workers (what beat does every few seconds)."""
    from app.authz import Actor
    from app.feeds import actions

    with app_context():
        count = actions.requeue_waiting_keys(Actor.operator())
    print(f"enqueued {count} key(s)")


@task
def consume_events(c):
    """Store GHGA's Kafka event topics in the inbox (needs KAFKA_SERVERS); stop with Ctrl-C."""
    from app.config import SettingsError, load_settings
    from app.kafka.consumer import InboxUnavailable
    from workers.kafka_consumer import consume_events as consume

    try:
        consume(load_settings())
    except SettingsError as error:
        raise Exit(str(error), code=2) from None
    except InboxUnavailable as error:
        raise Exit(f"error: {error}", code=1) from None
