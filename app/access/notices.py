"""Who hears of a new access request (after the commit): the stewards, by webhook."""

from flask import current_app

from app.access.models import AccessRequest
from app.notifications.dispatch import notify_operators
from app.notifications.throttle import first_notice


def request_created(request: AccessRequest) -> None:
    """One message per person and target per REPEAT_NOTICE_MINUTES: asking again
    for the same dataset does not ping the stewards again (ADR 22)."""
    target = request.dataset_accession or f"upload box {request.upload_box_id}"
    minutes = current_app.extensions["settings"].repeat_notice_minutes
    if first_notice(minutes, "access_request", str(request.user_id), target):
        notify_operators(
            f"Access request {request.id}: {request.user_email} asks for {request.kind} "
            f"access to {target}"
        )
