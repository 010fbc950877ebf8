"""Who hears of access requests (after the commit): the stewards of a new one, by
webhook; the requester of the decision, by e-mail."""

from flask import current_app

from app.access.models import AccessRequest
from app.notifications.dispatch import email_user, notify_operators
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


def tell_requester(decided: AccessRequest, outcome: str) -> None:
    """The requester learns the decision ("allowed" or "denied") and the steward's note."""
    target = decided.dataset_accession or f"upload box {decided.upload_box_id}"
    note = (
        f"\n\nNote from the data steward: {decided.decision_note}" if decided.decision_note else ""
    )
    email_user(
        decided.user_email,
        f"Your access request was {outcome}",
        f"Your request for {decided.kind} access to {target} was {outcome}.{note}\n",
    )


def ask_for_address(request: AccessRequest) -> None:
    """The requester hears that their request waits for a verification address."""
    base_url = str(current_app.extensions["settings"].public_base_url).rstrip("/")
    email_user(
        request.user_email,
        "Add a verification address for your access request",
        f"A data steward would allow your request for download access to "
        f"{request.dataset_accession}, but download access is bound to a verification "
        f"address (a phone number or postal address) and you have none yet. Add one at "
        f"{base_url}/verification-addresses; a data steward then sends you a code.\n",
    )
