"""The whole story against the served application (gunicorn), with requests as the browser:
sign in, wait as pending, be approved on the web or in Slack, sign in active."""

import json
import re
import time
from urllib.parse import urlencode

import pytest
import requests
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from app.accounts.models import User
from tests.support.live_service import free_port, live_service
from tests.support.oidc_provider import query, sign_in_with_requests
from tests.support.people import INITIAL_ADMIN
from tests.support.receivers import WebhookReceiver
from tests.support.secrets_seen import remember

SIGNING_SECRET = remember("live-slack-signing-secret-0123456789abcdef")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def slack():
    receiver = WebhookReceiver(tls=True)  # https, as Slack is
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def server(app, oidc_provider, slack, tmp_path_factory):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = oidc_provider.settings() | {
        "public_base_url": base,
        "initial_admin_email": INITIAL_ADMIN,
        "notify_webhook_url": slack.url,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_approver_ids": "U_ADMIN",
        # The receiver stands in for hooks.slack.com; the server trusts its certificate.
        "slack_response_url_hosts": "127.0.0.1",
        "requests_ca_bundle": slack.ca_file,
        "celery_always_eager": "true",
        "sign_in_rate_limit": "1000 per minute",
        # This walk is about sign-in and approval; the second factor has its own tests.
        "require_second_factor": "false",
    }
    log_dir = tmp_path_factory.mktemp("identity-live")
    with live_service(log_dir, port, log_dir, **settings):
        yield base


def browser() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy between the test and 127.0.0.1
    return session


def form_token(session, url) -> str:
    return _CSRF.search(session.get(url).text).group(1)


def account(db, sub) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.oidc_subject == sub))


def test_sign_in_pending_approved_on_the_web_then_active(server, oidc_provider, db):
    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True, name="Bo Boss")
    oidc_provider.person("grace", email="grace@uni.example", email_verified=True, name="Grace")
    grace, boss = browser(), browser()

    pending = sign_in_with_requests(grace, server, oidc_provider, "grace", "/account/status")
    assert pending.headers["Location"] == "/account/status"
    assert "pending" in grace.get(f"{server}/account/status").text
    assert grace.get(f"{server}/admin/users", allow_redirects=False).status_code == 403

    landed = sign_in_with_requests(boss, server, oidc_provider, "boss", "/admin/users")
    assert landed.headers["Location"] == "/admin/users"
    grace_id = account(db, "grace").id
    accepted = boss.post(
        f"{server}/admin/users/{grace_id}/accept",
        data={"csrf_token": form_token(boss, f"{server}/admin/users")},
        allow_redirects=False,
    )
    assert accepted.status_code == 303

    again = sign_in_with_requests(browser(), server, oidc_provider, "grace", "/account/status")
    assert again.headers["Location"] == "/account/status"
    assert account(db, "grace").status == "active"

    out = boss.post(
        f"{server}/logout",
        data={"csrf_token": form_token(boss, f"{server}/admin/users")},
        allow_redirects=False,
    )
    assert out.headers["Location"].startswith(f"{oidc_provider.issuer}/oauth2/end_session")
    assert query(out.headers["Location"])["post_logout_redirect_uri"] == f"{server}/"
    assert boss.get(f"{server}/admin/users", allow_redirects=False).status_code == 302


def test_sign_in_pending_approved_in_slack_then_active(server, oidc_provider, slack, db):
    oidc_provider.person("alan", email="alan@uni.example", email_verified=True, name="Alan")
    sign_in_with_requests(browser(), server, oidc_provider, "alan")
    message = next(b for b in reversed(slack.bodies) if "alan@uni.example" in b["text"])
    approve = message["blocks"][1]["elements"][0]
    payload = {
        "type": "block_actions",
        "user": {"id": "U_ADMIN"},
        "actions": [{"action_id": approve["action_id"], "value": approve["value"]}],
        "response_url": slack.url.replace("/hook", "/response"),
    }
    body = urlencode({"payload": json.dumps(payload)})
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(
            timestamp=stamp, body=body
        ),
    }

    clicked = browser().post(f"{server}/slack/interactions", data=body, headers=headers)
    replayed = browser().post(f"{server}/slack/interactions", data=body, headers=headers)

    assert clicked.status_code == 200
    assert slack.bodies[-1]["replace_original"] is True
    assert replayed.status_code == 200 and "already handled" in replayed.json()["text"]
    alan = browser()
    landed = sign_in_with_requests(alan, server, oidc_provider, "alan", "/account/status")
    assert landed.headers["Location"] == "/account/status"
    assert "Your account is active" in alan.get(f"{server}/account/status").text
