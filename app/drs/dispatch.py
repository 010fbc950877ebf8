"""Handing envelopes to the workers."""

from uuid import UUID

from app.dispatch import enqueue

BUILD_TASK = "drs.build_envelope"


def enqueue_envelope(envelope_id: UUID) -> None:
    """Queue the building; a person asking again re-queues one that was lost."""
    enqueue(BUILD_TASK, str(envelope_id))
