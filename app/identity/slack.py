"""Approve or reject people from the Slack message's buttons.

Slack signs every request: HMAC-SHA256 of `v0:{timestamp}:{body}` with the app's
signing secret; slack_sdk's SignatureVerifier checks it and refuses timestamps
more than five minutes away. Nothing is changed before the signature is good, a
signed request is applied once (an exact replay is refused), and a button decides
only about a person still pending (ADR 0021).
"""

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs
from uuid import UUID

from flask import current_app
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import delete

from app.accounts import actions
from app.accounts.errors import AlreadyDecided
from app.accounts.models import User
from app.authz import Actor
from app.database import insert_ignoring_conflicts, utc_now
from app.errors import DomainError, NotFound, RequestValidationFailed, Unauthorized
from app.extensions import db
from app.identity.models import SlackInteraction
from app.notifications.approval import APPROVE_ACTION, REJECT_ACTION, decided_blocks, escape
from app.notifications.dispatch import answer_slack
from app.unit_of_work import commit

log = logging.getLogger(__name__)

DECISIONS = {
    APPROVE_ACTION: (actions.accept, "approved"),
    REJECT_ACTION: (actions.reject, "rejected"),
}
#: slack_sdk refuses a timestamp further than this from now, either way.
SIGNATURE_WINDOW = timedelta(minutes=5)
#: A handled request is remembered this long after its timestamp (clocks of other
#: processes may run a little behind ours).
REMEMBERED_FOR = SIGNATURE_WINDOW + timedelta(minutes=1)
ALREADY_HANDLED = "This Slack interaction was already handled; nothing changed."
# Slack's own shapes; anything else is not a request Slack made.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_SLACK_ID = re.compile(r"[A-Za-z0-9_]{1,64}")


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
    #: SHA-256 of the signed text: the same only for an exact replay.
    key: str
    signed_at: datetime


def verified_click(body: str, headers) -> ButtonClick:
    """The button click in Slack's signed request, or an error (401 when not signed)."""
    secret = current_app.extensions["settings"].slack_signing_secret
    if secret is None:
        raise NotFound("Slack interactions are not configured", code="slack_not_configured")
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    # Checked before slack_sdk sees them: it would fail with an exception (500) on a
    # timestamp int() cannot read and on a non-ASCII signature.
    if not (_TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature)):
        raise InvalidSlackSignature()
    if not SignatureVerifier(secret.get_secret_value()).is_valid(body, timestamp, signature):
        raise InvalidSlackSignature()
    signed = f"v0:{timestamp}:{body}".encode()
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    return _click(body, hashlib.sha256(signed).hexdigest(), signed_at)


def _click(body: str, key: str, signed_at: datetime) -> ButtonClick:
    try:
        payload = json.loads(parse_qs(body)["payload"][0])
        action = payload["actions"][0]
        clicker_id = payload["user"]["id"]
        response_url = payload.get("response_url")
        if not isinstance(clicker_id, str) or not _SLACK_ID.fullmatch(clicker_id):
            raise ValueError("not a Slack user id")
        if response_url is not None and not isinstance(response_url, str):
            raise ValueError("response_url is not text")
        return ButtonClick(
            action_id=action["action_id"],
            person_id=UUID(action["value"]),
            clicker_id=clicker_id,
            response_url=response_url,
            key=key,
            signed_at=signed_at,
        )
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise RequestValidationFailed(
            "Expected a Slack block_actions payload with an account id as the button value",
            code="invalid_slack_payload",
        ) from None


def apply_click(click: ButtonClick) -> str:
    """Approve or reject as clicked; the answer is also posted back to the message."""
    if not _first_time(click):
        log.info("slack interaction replayed; refused")
        return ALREADY_HANDLED
    refusal = _refusal(click)
    if refusal:
        _remember()
        return _reply(click, refusal, replace=False)
    decide, decision = DECISIONS[click.action_id]
    try:
        # The action commits the interaction's memory with the decision.
        person = decide(_approver(click), click.person_id, pending_only=True)
    except DomainError as error:
        _remember()
        return _reply(click, f"Nothing changed: {_why(click, error)}", replace=False)
    text = f"{_person(person)} was {decision} by <@{click.clicker_id}>"
    if click.response_url:
        blocks = decided_blocks(person, decision, click.clicker_id)
        answer_slack(click.response_url, {"replace_original": True, "text": text, "blocks": blocks})
    return text


def _approver(click: ButtonClick) -> Actor:
    """Whoever clicked passed `_refusal`: they approve accounts (SLACK_APPROVER_IDS)."""
    return Actor.slack_approver(click.clicker_id)


def _remember() -> None:
    """Store that this interaction was handled though nothing else changed: a replay of
    it is refused. The channel's own record, not an action's (ADR 0023)."""
    commit()


def _first_time(click: ButtonClick) -> bool:
    """Remember the interaction; False when it was handled before (an exact replay).

    Entries whose signature window has passed are pruned: Slack's signature check
    refuses those requests anyway.
    """
    now = utc_now()
    db.session.execute(delete(SlackInteraction).where(SlackInteraction.expires_at < now))
    values = {
        "key": click.key,
        "received_at": now,
        "expires_at": click.signed_at + REMEMBERED_FOR,
    }
    return insert_ignoring_conflicts(db.session, SlackInteraction, values, ["key"]) is not None


def _refusal(click: ButtonClick) -> str | None:
    approvers = current_app.extensions["settings"].slack_approver_ids
    if click.action_id not in DECISIONS:
        return "This button is not one of ours."
    if approvers and click.clicker_id not in approvers:
        log.info("slack click by %s refused: not an approver", click.clicker_id)
        return "You are not one of the people who approve accounts."
    return None


def _why(click: ButtonClick, error: DomainError) -> str:
    if not isinstance(error, AlreadyDecided):
        return escape(error.detail)
    decision = error.decision
    when = decision.at.strftime("%Y-%m-%d %H:%M UTC") if decision.at else "at an unknown time"
    person = db.session.get(User, click.person_id)
    return (
        f"{_person(person)} is {error.status}: {decision.action} "
        f"by {_actor(decision.actor)} on {when}."
    )


def _person(person: User) -> str:
    return f"{escape(person.name)} &lt;{escape(person.email)}&gt;"


def _actor(actor: str) -> str:
    """Who acted, as a Slack reader knows them: a mention, an address, or the record's name."""
    kind, _, reference = actor.partition(":")
    if kind == "slack" and _SLACK_ID.fullmatch(reference):
        return f"<@{reference}>"
    if kind == "user":
        try:
            person = db.session.get(User, UUID(reference))
        except ValueError:
            person = None
        if person is not None:
            return escape(person.email)
    return escape(actor)


def _reply(click: ButtonClick, text: str, replace: bool) -> str:
    if click.response_url:
        message = {"replace_original": replace, "response_type": "ephemeral", "text": text}
        answer_slack(click.response_url, message)
    return text
