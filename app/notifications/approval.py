"""Slack messages about people awaiting approval, with Approve and Reject buttons.

The buttons come back to `POST /slack/interactions` (see app/identity/slack.py);
their `value` is the account id.
"""

from app.notifications.dispatch import notify_operators

APPROVE_ACTION = "approve_person"
REJECT_ACTION = "reject_person"


def escape(text: str) -> str:
    """Slack mrkdwn: &, < and > are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def announce_pending_person(person) -> None:
    # The fallback text is mrkdwn too: a name or address must not mention anyone.
    summary = (
        f"New person awaiting approval: {escape(person.name)} "
        f"&lt;{escape(person.email)}&gt; ({person.id})"
    )
    notify_operators(summary, pending_person_blocks(person))


def pending_person_blocks(person) -> list[dict]:
    where = f"signed in through {person.oidc_issuer}" if person.oidc_issuer else "signed up"
    # An unverified address says nothing about who this is: the approver must know.
    verified = "e-mail verified by the provider" if person.email_verified else "e-mail NOT verified"
    text = (
        f"*New person awaiting approval*\n{escape(person.name)} "
        f"&lt;{escape(person.email)}&gt; ({verified}), {escape(where)}\n`{person.id}`"
    )
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "block_id": "person_approval",
            "elements": [
                _button(APPROVE_ACTION, "Approve", "primary", person.id),
                _button(REJECT_ACTION, "Reject", "danger", person.id),
            ],
        },
    ]


def decided_blocks(person, decision: str, clicker_id: str) -> list[dict]:
    """What the message becomes once someone clicked: no buttons left to press."""
    text = (
        f"*{escape(person.name)}* &lt;{escape(person.email)}&gt; was *{decision}* "
        f"by <@{escape(clicker_id)}>"
    )
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def _button(action_id: str, label: str, style: str, person_id) -> dict:
    return {
        "type": "button",
        "action_id": action_id,
        "style": style,
        "text": {"type": "plain_text", "text": label},
        "value": str(person_id),
    }
