"""Approving people with Slack's buttons: only requests Slack signed change anything,
only once, only for people nobody decided about yet."""

import json
import logging
import time
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from app.accounts.models import AccountEvent, User
from tests.support.oidc_provider import sign_in_with_test_client
from tests.support.people import INITIAL_ADMIN, post_form
from tests.support.receivers import WebhookReceiver
from tests.support.secrets_seen import remember

SIGNING_SECRET = remember("slack-signing-secret-for-tests-0123456789")


@pytest.fixture
def slack(monkeypatch):
    """Both Slack endpoints we talk to: the incoming webhook and a message's response_url,
    over https as Slack's are (the service trusts the receiver's certificate)."""
    receiver = WebhookReceiver(tls=True)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", receiver.ca_file)
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
        # The receiver stands in for hooks.slack.com.
        slack_response_url_hosts=["127.0.0.1"],
    )


@pytest.fixture
def grace(people_app, oidc_provider, db):
    oidc_provider.person("grace", email="grace@uni.example", email_verified=True, name="Grace")
    client = people_app.test_client()
    sign_in_with_test_client(client, oidc_provider, "grace")
    client.account = db.session.scalar(select(User).where(User.oidc_subject == "grace"))
    return client


def click(slack, button: dict, clicker="U_APPROVER", response_url=None) -> str:
    """The form body Slack posts when someone clicks `button` in our message."""
    payload = {
        "type": "block_actions",
        "user": {"id": clicker, "username": "someone"},
        "actions": [{"action_id": button["action_id"], "value": button["value"]}],
        "response_url": response_url or slack.url.replace("/hook", "/response"),
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
    """The Approve and Reject buttons of the (only) announcement of a pending person."""
    (message,) = [body for body in slack.bodies if "awaiting approval" in body["text"]]
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


def post(app, body: str, headers: dict):
    return app.test_client().post("/slack/interactions", data=body, headers=headers)


def events(db, user) -> list[tuple[str, str]]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(AccountEvent)
        .where(AccountEvent.user_id == user.id)
        .order_by(AccountEvent.created_at)
    )
    return [(event.action, event.actor) for event in rows]


@pytest.fixture
def admin(people_app, oidc_provider, db):
    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True, name="Bo Boss")
    client = people_app.test_client()
    sign_in_with_test_client(client, oidc_provider, "boss")
    client.account = db.session.scalar(select(User).where(User.oidc_subject == "boss"))
    return client


def test_approve_of_a_person_an_admin_disabled_changes_nothing_and_says_who(
    people_app, grace, admin, slack, db
):
    approve = click(slack, buttons(slack)["approve_person"])
    post_form(admin, f"/admin/users/{grace.account.id}/accept", page="/admin/users")
    post_form(admin, f"/admin/users/{grace.account.id}/disable", page="/admin/users")
    before = events(db, grace.account)

    answer = post(people_app, approve, signed(approve))

    assert answer.status_code == 200
    assert status(db, grace.account) == "disabled"
    assert events(db, grace.account) == before
    reply = slack.bodies[-1]
    assert reply["replace_original"] is False and reply["response_type"] == "ephemeral"
    disabled_at = db.session.scalars(
        select(AccountEvent.created_at).where(AccountEvent.action == "disabled")
    ).one()
    assert "Nothing changed" in reply["text"] and "disabled by" in reply["text"]
    assert INITIAL_ADMIN in reply["text"]  # the admin who disabled, by address
    assert disabled_at.strftime("%Y-%m-%d %H:%M UTC") in reply["text"]


def test_approve_of_a_rejected_person_changes_nothing(people_app, grace, slack, db):
    reject = click(slack, buttons(slack)["reject_person"])
    approve = click(slack, buttons(slack)["approve_person"])
    post(people_app, reject, signed(reject))

    late = post(people_app, approve, signed(approve))

    assert late.status_code == 200
    assert status(db, grace.account) == "rejected"
    assert events(db, grace.account) == [("rejected", "slack:U_APPROVER")]
    assert "rejected by <@U_APPROVER>" in slack.bodies[-1]["text"]


def test_an_exact_replay_is_applied_once(people_app, grace, admin, slack, db):
    approve = click(slack, buttons(slack)["approve_person"])
    headers = signed(approve)
    first = post(people_app, approve, headers)
    post_form(admin, f"/admin/users/{grace.account.id}/disable", page="/admin/users")
    told = len(slack.bodies)

    replayed = post(people_app, approve, headers)

    assert first.status_code == replayed.status_code == 200
    assert "already handled" in replayed.json["text"]
    assert status(db, grace.account) == "disabled"
    assert [action for action, _ in events(db, grace.account)] == ["approved", "disabled"]
    assert len(slack.bodies) == told  # a replay posts nothing to Slack either


def test_handled_interactions_are_forgotten_after_the_signature_window(
    people_app, grace, slack, db
):
    from app.identity.models import SlackInteraction

    reject = click(slack, buttons(slack)["reject_person"])
    post(people_app, reject, signed(reject, age_seconds=4 * 60))
    db.session.execute(
        SlackInteraction.__table__.update().values(expires_at=SlackInteraction.received_at)
    )
    db.session.commit()
    approve = click(slack, buttons(slack)["approve_person"])

    post(people_app, approve, signed(approve))

    db.session.expire_all()
    assert db.session.query(SlackInteraction).count() == 1  # the old one pruned


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


def _signed_over(timestamp: str, body: str) -> dict:
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body)
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


MALFORMED_HEADERS = {
    "no timestamp": lambda body, good: {"X-Slack-Signature": good["X-Slack-Signature"]},
    "no signature": lambda body, good: {
        "X-Slack-Request-Timestamp": good["X-Slack-Request-Timestamp"]
    },
    "timestamp not a number": lambda body, good: _signed_over("abc", body),
    "timestamp with 5000 digits": lambda body, good: (
        good | {"X-Slack-Request-Timestamp": "9" * 5000}
    ),
    "timestamp beyond 64 bits": lambda body, good: _signed_over("9" * 30, body),
    "negative timestamp": lambda body, good: _signed_over("-1", body),
    "non-ASCII digits": lambda body, good: _signed_over(
        _fullwidth(good["X-Slack-Request-Timestamp"]), body
    ),
    "non-ASCII signature": lambda body, good: good | {"X-Slack-Signature": "v0=" + "é" * 64},
    "wrong prefix": lambda body, good: (
        good | {"X-Slack-Signature": "v1=" + good["X-Slack-Signature"][3:]}
    ),
    "signature too short": lambda body, good: (
        good | {"X-Slack-Signature": good["X-Slack-Signature"][:-2]}
    ),
}


@pytest.mark.parametrize("make", MALFORMED_HEADERS.values(), ids=MALFORMED_HEADERS.keys())
def test_malformed_slack_headers_are_401_and_change_nothing(people_app, grace, slack, db, make):
    body = click(slack, buttons(slack)["approve_person"])
    headers = make(body, signed(body)) | {"Content-Type": "application/x-www-form-urlencoded"}

    answer = post(people_app, body, headers)

    assert answer.status_code == 401
    assert answer.json["code"] == "invalid_slack_signature"
    assert status(db, grace.account) == "pending"
    assert len(slack.bodies) == 1


def test_names_and_addresses_are_escaped_in_what_slack_shows(people_app, oidc_provider, slack, db):
    oidc_provider.person(
        "tom", email="<!channel>tom@uni.example", email_verified=True, name="Tom & <@U123>"
    )
    sign_in_with_test_client(people_app.test_client(), oidc_provider, "tom")
    approve = click(slack, buttons(slack)["approve_person"])

    post(people_app, approve, signed(approve))

    announced, decided = slack.bodies
    for message in (announced, decided):
        shown = [message["text"]] + [block["text"]["text"] for block in message["blocks"][:1]]
        for text in shown:
            assert "<!channel>" not in text and "<@U123>" not in text
            assert "&lt;!channel&gt;tom@uni.example" in text
            assert "Tom &amp; " in text


@pytest.mark.parametrize(
    ("where", "followed"),
    [("https://127.0.0.1:{port}", True), ("https://localhost:{port}", False)],
    ids=["allowed host", "another host"],
)
def test_response_url_is_followed_only_to_slacks_host(
    people_app, grace, slack, db, caplog, where, followed
):
    port = slack.server.server_port
    response_url = where.format(port=port) + "/actions/T0/B0/SeCrEtPaTh"
    approve = click(slack, buttons(slack)["approve_person"], response_url=response_url)
    caplog.set_level(logging.INFO)

    answer = post(people_app, approve, signed(approve))

    assert answer.status_code == 200
    assert status(db, grace.account) == "active"
    assert (len(slack.bodies) == 2) is followed
    if not followed:
        refused = [r.getMessage() for r in caplog.records if "response_url" in r.getMessage()]
        assert refused and "localhost" in refused[0]
    assert not [r for r in caplog.records if "SeCrEtPaTh" in r.getMessage()]


def test_a_plain_http_response_url_is_not_followed(people_app, grace, slack, db):
    plain = WebhookReceiver()  # 127.0.0.1, an allowed host, but not https
    try:
        approve = click(slack, buttons(slack)["approve_person"], response_url=plain.url)

        post(people_app, approve, signed(approve))

        assert status(db, grace.account) == "active"
        assert plain.bodies == []
    finally:
        plain.stop()
