"""Handing closed uploads to the workers for verification."""

from uuid import UUID

from app.dispatch import enqueue

VERIFY_TASK = "transfer.verify_upload"


def enqueue_verification(file_id: UUID) -> None:
    """Queue the verification; if the broker is down, beat's sweep queues it later."""
    enqueue(VERIFY_TASK, str(file_id))
