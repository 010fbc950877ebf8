"""Handing closed uploads to the workers for verification."""

import logging
from uuid import UUID

from flask import current_app

log = logging.getLogger(__name__)

VERIFY_TASK = "transfer.verify_upload"


def enqueue_verification(file_id: UUID) -> None:
    """Queue the verification; a broker that is down leaves it to the beat sweep."""
    task = current_app.extensions["celery"].tasks[VERIFY_TASK]
    try:
        task.apply_async((str(file_id),), retry=False)
    except Exception as error:  # the broker's client raises its own errors
        log.warning("could not enqueue verification of %s (%s)", file_id, type(error).__name__)
