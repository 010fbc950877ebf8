"""Approve or reject people from the Slack message's buttons.

Slack signs every request: HMAC-SHA256 of `v0:{timestamp}:{body}` with the app's
signing secret; slack_sdk's SignatureVerifier checks it and refuses timestamps
more than five minutes away. Nothing is changed before the signature is good.
"""

import json
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs
from uuid import UUID

from flask import current_app
from slack_sdk.signature import SignatureVerifier

from app.accounts import services
from app.accounts.models import UserStatus
from app.accounts.notices import tell_accepted
from app.errors import DomainError, NotFound, RequestValidationFailed, Unauthorized
from app.extensions import db
from app.notifications.approval import APPROVE_ACTION, REJECT_ACTION, decided_blocks
from app.notifications.dispatch import answer_slack

log = logging.getLogger(__name__)

DECISIONS = {
    APPROVE_ACTION: (UserStatus.ACTIVE, "approved"),
    REJECT_ACTION: (UserStatus.REJECTED, "rejected"),
}


class InvalidSlackSignature(Unauthorized):
    """The request is not signed by Slack with this service's signing secret, or is too old."""

    code = "invalid_slack_signature"

    def headers(self) -> dict:
        return {}


@dataclass(frozen=True)
class ButtonClick:
    action_id: str
    person_id: UUID
    clicker_id: str
    response_url: str | None


def verified_click(body: str, headers) -> ButtonClick:
    """The button click in Slack's signed request, or an error (401 when not signed)."""
    secret = current_app.extensions["settings"].slack_signing_secret
    if secret is None:
        raise NotFound("Slack interactions are not configured", code="slack_not_configured")
    verifier = SignatureVerifier(secret.get_secret_value())
    if not verifier.is_valid_request(body, dict(headers)):
        raise InvalidSlackSignature()
    return _click(body)


def _click(body: str) -> ButtonClick:
    try:
        payload = json.loads(parse_qs(body)["payload"][0])
        action = payload["actions"][0]
        return ButtonClick(
            action_id=action["action_id"],
            person_id=UUID(action["value"]),
            clicker_id=str(payload["user"]["id"]),
            response_url=payload.get("response_url"),
        )
    except (KeyError, IndexError, TypeError, ValueError):
        raise RequestValidationFailed(
            "Expected a Slack block_actions payload with an account id as the button value",
            code="invalid_slack_payload",
        ) from None


def apply_click(click: ButtonClick) -> str:
    """Approve or reject as clicked; the answer is also posted back to the message."""
    approvers = current_app.extensions["settings"].slack_approver_ids
    if click.action_id not in DECISIONS:
        return _reply(click, "This button is not one of ours.", replace=False)
    if approvers and click.clicker_id not in approvers:
        log.info("slack click by %s refused: not an approver", click.clicker_id)
        return _reply(click, "You are not one of the people who approve accounts.", False)
    target, decision = DECISIONS[click.action_id]
    try:
        person = services.change_status(
            click.person_id, target, f"slack:{click.clicker_id}", "slack"
        )
    except DomainError as error:
        db.session.rollback()
        return _reply(click, f"Nothing changed: {error.detail}", replace=False)
    db.session.commit()
    if target == UserStatus.ACTIVE:
        tell_accepted(person)
    text = f"{person.name} <{person.email}> was {decision} by <@{click.clicker_id}>"
    if click.response_url:
        blocks = decided_blocks(person, decision, click.clicker_id)
        answer_slack(click.response_url, {"replace_original": True, "text": text, "blocks": blocks})
    return text


def _reply(click: ButtonClick, text: str, replace: bool) -> str:
    if click.response_url:
        message = {"replace_original": replace, "response_type": "ephemeral", "text": text}
        answer_slack(click.response_url, message)
    return text
