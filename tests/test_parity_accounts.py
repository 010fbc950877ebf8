"""One action, every channel (ADR 0023): an account action done through the JSON API,
the admin pages, Slack's buttons or `invoke` leaves the same state, the same audit
record and the same notifications; only who acted and the channel differ, as they
should.

Each channel acts on a fresh person in the same starting state. Real PostgreSQL, a
real SMTP server and webhook (tests/support/receivers.py), Slack requests signed with the
signing secret, and `invoke` as a subprocess.
"""

import json
import time
from datetime import timedelta
from urllib.parse import urlencode
from uuid import uuid4

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from app import create_app
from app.accounts.models import AccountEvent, RefreshToken, User, UserStatus
from app.accounts.services import issue_refresh_token
from app.database import utc_now
from app.second_factor.models import TotpFactor
from app.second_factor.secret_box import seal_secret
from app.web_sessions.services import live_sessions, start_session
from tests.conftest import make_settings
from tests.support.factories import ApplicationKeyFactory
from tests.support.people import make_person
from tests.support.secrets_seen import remember
from tests.support.web_sessions import browser_client, sign_in, submit
from tests.test_cli import invoke

SIGNING_SECRET = remember("slack-signing-secret-for-parity-0123456789")
APPROVER = "U_APPROVER"

#: What each channel's records say about who acted, and the channel they name.
ACTOR_KIND = {"api": "application", "page": "user", "slack": "slack", "invoke": "operator"}
CHANNEL = {"api": "api", "page": "web", "slack": "slack", "invoke": "cli"}


@pytest.fixture
def parity_app(db, instance_path, receivers):
    webhook, mail = receivers
    app = create_app(
        make_settings(
            instance_path,
            notify_webhook_url=webhook.url,
            smtp_host="127.0.0.1",
            smtp_port=mail.port,
            slack_signing_secret=SIGNING_SECRET,
            slack_approver_ids=[APPROVER],
        )
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def channels(parity_app, db, receivers, instance_path):
    """Each channel as a function (action, person id, role) -> None."""
    webhook, mail = receivers
    key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("USER_ADMIN",)).key}
    admin = make_person(name="Grace Admin", role="admin")
    browser = browser_client(parity_app)
    sign_in(browser, admin)

    def api(action, person, role=None):
        client = parity_app.test_client()
        if action == "reset":
            answer = client.delete(f"/users/{person.id}/totp", headers=key)
        elif action == "role":
            answer = client.post(f"/users/{person.id}/role", json={"role": role}, headers=key)
        else:
            answer = client.post(f"/users/{person.id}/{action}", headers=key)
        assert answer.status_code in (200, 204), answer.get_data(as_text=True)

    def page(action, person, role=None):
        if action == "reset":
            path, data = f"/admin/people/{person.id}/reset-second-factor", {}
        elif action == "role":
            path, data = f"/admin/users/{person.id}/role", {"role": role}
        else:
            path, data = f"/admin/users/{person.id}/{action}", {}
        answer = submit(browser, "/admin/users", path, data)
        assert answer.status_code in (302, 303), answer.get_data(as_text=True)
        flashed = browser.get("/admin/users").get_data(as_text=True)
        assert "no second factor" not in flashed

    def slack(action, person, role=None):
        button = {"accept": "approve_person", "reject": "reject_person"}[action]
        payload = {
            "type": "block_actions",
            "user": {"id": APPROVER, "username": "approver"},
            "actions": [{"action_id": button, "value": str(person.id)}],
        }
        body = urlencode({"payload": json.dumps(payload)})
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(SIGNING_SECRET).generate_signature(
            timestamp=timestamp, body=body
        )
        headers = {
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        answer = parity_app.test_client().post("/slack/interactions", data=body, headers=headers)
        assert answer.status_code == 200 and "Nothing changed" not in answer.json["text"]

    def cli(action, person, role=None):
        assert action == "accept"
        told = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mail.port),
            "NOTIFY_WEBHOOK_URL": webhook.url,
        }
        done = invoke("accept-user", "--email", person.email, instance_path=instance_path, env=told)
        assert done.returncode == 0, done.stderr

    return {"api": api, "page": page, "slack": slack, "invoke": cli}


def fresh_person(db, status: UserStatus, second_factor: bool = False) -> User:
    """A person holding an API token and a browser session, as many do."""
    person = make_person(
        name="Tess Target", email=f"tess-{uuid4().hex[:8]}@example.org", status=status
    )
    remember(issue_refresh_token(person.id))
    remember(start_session(person.id, None))
    if second_factor:
        secret = seal_secret("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        db.session.add(TotpFactor(user_id=person.id, secret=secret, confirmed_at=utc_now()))
    db.session.commit()
    return person


def outcome(db, receivers, person: User, channel: str) -> dict:
    """What the action left: the person's account and credentials, its record, and
    what people were told (names and addresses of this person made general)."""
    webhook, mail = receivers
    db.session.expire_all()
    account = db.session.get(User, person.id)
    now = utc_now()
    tokens = db.session.scalars(select(RefreshToken).where(RefreshToken.user_id == person.id))
    events = db.session.scalars(
        select(AccountEvent).where(AccountEvent.user_id == person.id).order_by(AccountEvent.id)
    ).all()
    for event in events:
        assert event.channel == CHANNEL[channel], (event.action, event.channel)
        assert event.actor.partition(":")[0] == ACTOR_KIND[channel], event.actor
    mails = [m for m in mail.messages if person.email in m.rcpt_tos]
    hooks = [text for text in webhook.texts if str(person.id) in text or person.email in text]
    return {
        "status": account.status,
        "role": account.role,
        "approved": account.approved_at is not None and account.approved_at > now - timedelta(1),
        "live API tokens": sum(1 for t in tokens if t.revoked_at is None and t.expires_at > now),
        "live sessions": len(live_sessions(person.id)),
        "second factor": db.session.get(TotpFactor, person.id) is not None,
        "record": [(event.action, event.detail) for event in events],
        "e-mails": [_subject(m) for m in mails],
        "operator messages": [t.replace(str(person.id), "<id>") for t in hooks],
    }


def _subject(envelope) -> str:
    content = envelope.content.decode(errors="replace")
    return next(line for line in content.splitlines() if line.startswith("Subject:"))


ACCEPTED_MAIL = ["Subject: Your account is active"]
CASES = [
    # (action, channels that offer it, starting status, role asked, second factor held,
    #  what the first channel must leave: the rest must leave the same)
    ("accept", ["api", "page", "slack", "invoke"], UserStatus.PENDING, None, False,
     {"status": "active", "record": [("approved", "")], "e-mails": ACCEPTED_MAIL}),
    ("reject", ["api", "page", "slack"], UserStatus.PENDING, None, False,
     {"status": "rejected", "live API tokens": 0, "live sessions": 0, "e-mails": []}),
    ("disable", ["api", "page"], UserStatus.ACTIVE, None, False,
     {"status": "disabled", "live API tokens": 0, "live sessions": 0}),
    ("enable", ["api", "page"], UserStatus.DISABLED, None, False,
     {"status": "active", "record": [("enabled", "")]}),
    ("role", ["api", "page"], UserStatus.ACTIVE, "steward", False,
     {"role": "steward", "record": [("role_changed", "researcher → steward")]}),
    ("reset", ["api", "page"], UserStatus.ACTIVE, None, True,
     {"second factor": False, "live API tokens": 0, "live sessions": 0,
      "record": [("second_factor_reset", "")]}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "offered", "start", "role", "factor", "expected"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_every_channel_does_the_same(
    db, receivers, channels, action, offered, start, role, factor, expected
):
    results = {}
    for channel in offered:
        person = fresh_person(db, start, second_factor=factor)
        channels[channel](action, person, role)
        results[channel] = outcome(db, receivers, person, channel)

    first = results[offered[0]]
    assert first["record"], "the action was recorded"
    assert {name: first[name] for name in expected} == expected
    for channel in offered[1:]:
        assert results[channel] == first, f"{channel} differs from {offered[0]}"
