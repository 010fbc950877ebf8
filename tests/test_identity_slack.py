"""Approving people with Slack's buttons: only requests Slack signed change anything."""

import json
import time
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from app.accounts.models import AccountEvent, User
from tests.oidc_provider import sign_in_with_test_client
from tests.receivers import WebhookReceiver
from tests.secrets_seen import remember

SIGNING_SECRET = remember("slack-signing-secret-for-tests-0123456789")


@pytest.fixture
def slack():
    """Both Slack endpoints we talk to: the incoming webhook and a message's response_url."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def people_app(identity_app, db, instance_path, oidc_provider, slack):
    return identity_app(
        instance_path,
        oidc_provider,
        notify_webhook_url=slack.url,
        slack_signing_secret=SIGNING_SECRET,
        slack_approver_ids=["U_APPROVER"],
    )


@pytest.fixture
def grace(people_app, oidc_provider, db):
    oidc_provider.person("grace", email="grace@uni.example", email_verified=True, name="Grace")
    client = people_app.test_client()
    sign_in_with_test_client(client, oidc_provider, "grace")
    client.account = db.session.scalar(select(User).where(User.oidc_subject == "grace"))
    return client


def click(slack, button: dict, clicker="U_APPROVER") -> str:
    """The form body Slack posts when someone clicks `button` in our message."""
    payload = {
        "type": "block_actions",
        "user": {"id": clicker, "username": "someone"},
        "actions": [{"action_id": button["action_id"], "value": button["value"]}],
        "response_url": slack.url.replace("/hook", "/response"),
    }
    return urlencode({"payload": json.dumps(payload)})


def signed(body: str, secret=SIGNING_SECRET, age_seconds=0) -> dict:
    timestamp = str(int(time.time()) - age_seconds)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def buttons(slack) -> dict:
    (message,) = slack.bodies
    return {b["action_id"]: b for b in message["blocks"][1]["elements"]}


def status(db, user) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).status


def test_approve_in_slack_then_the_person_signs_in_active(
    people_app, oidc_provider, grace, slack, db
):
    body = click(slack, buttons(slack)["approve_person"])

    answer = people_app.test_client().post("/slack/interactions", data=body, headers=signed(body))

    assert answer.status_code == 200
    assert status(db, grace.account) == "active"
    update = slack.bodies[-1]
    assert update["replace_original"] is True
    assert "approved" in update["text"] and "<@U_APPROVER>" in update["text"]
    assert "actions" not in [block["type"] for block in update["blocks"]]
    (event,) = db.session.scalars(select(AccountEvent)).all()
    assert (event.action, event.actor, event.channel) == ("approved", "slack:U_APPROVER", "slack")
    again = people_app.test_client()
    sign_in_with_test_client(again, oidc_provider, "grace")
    assert "Your account is active" in again.get("/account/status").get_data(as_text=True)


def test_reject_in_slack(people_app, oidc_provider, grace, slack, db):
    body = click(slack, buttons(slack)["reject_person"])

    answer = people_app.test_client().post("/slack/interactions", data=body, headers=signed(body))

    assert answer.status_code == 200
    assert status(db, grace.account) == "rejected"
    assert grace.get("/account/status").status_code == 302  # rejecting ended the session
    sign_in_with_test_client(grace, oidc_provider, "grace")
    assert "rejected" in grace.get("/account/status").get_data(as_text=True)


@pytest.mark.parametrize(
    "headers",
    [
        lambda body: signed(body, secret="not-the-signing-secret"),
        lambda body: signed(body, age_seconds=6 * 60),
        lambda body: signed(body + "&extra=1"),
        lambda body: {"Content-Type": "application/x-www-form-urlencoded"},
    ],
    ids=["wrong secret", "six minutes old", "body changed", "unsigned"],
)
def test_requests_not_signed_by_slack_change_nothing(people_app, grace, slack, db, headers):
    body = click(slack, buttons(slack)["approve_person"])

    answer = people_app.test_client().post("/slack/interactions", data=body, headers=headers(body))

    assert answer.status_code == 401
    assert answer.json["code"] == "invalid_slack_signature"
    assert status(db, grace.account) == "pending"
    assert len(slack.bodies) == 1  # only the announcement; no message updated


def test_only_the_listed_approvers_may_click(people_app, grace, slack, db):
    body = click(slack, buttons(slack)["approve_person"], clicker="U_SOMEONE_ELSE")

    answer = people_app.test_client().post("/slack/interactions", data=body, headers=signed(body))

    assert answer.status_code == 200
    assert status(db, grace.account) == "pending"
    reply = slack.bodies[-1]
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "not one of the people who approve" in reply["text"]


def test_a_second_click_changes_nothing_and_says_why(people_app, grace, slack, db):
    approve = click(slack, buttons(slack)["approve_person"])
    reject = click(slack, buttons(slack)["reject_person"])
    client = people_app.test_client()

    client.post("/slack/interactions", data=approve, headers=signed(approve))
    late = client.post("/slack/interactions", data=reject, headers=signed(reject))

    assert late.status_code == 200
    assert status(db, grace.account) == "active"
    assert "Nothing changed" in slack.bodies[-1]["text"]


def test_a_signed_request_without_our_payload_is_422(people_app, db):
    body = urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})})

    answer = people_app.test_client().post("/slack/interactions", data=body, headers=signed(body))

    assert answer.status_code == 422
    assert answer.json["code"] == "invalid_slack_payload"
