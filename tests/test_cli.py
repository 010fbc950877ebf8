"""Operator commands: invoke create/revoke/list application keys."""

import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest

from app.config import Settings
from tests.conftest import TEST_DATABASE_URL
from tests.support.secrets_seen import remember

ROOT = Path(__file__).resolve().parent.parent


def invoke(*arguments, instance_path, env: dict | None = None) -> subprocess.CompletedProcess:
    """`invoke` as an operator runs it, on the test database; `env` adds settings (the
    parity tests point notifications at their receivers)."""
    # Settings are read from the environment by upper-case name: none leaks in from outside.
    inherited = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    inherited |= {
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL,
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": "cli-test",
    }
    return subprocess.run(
        [sys.executable, "-m", "invoke", *arguments],
        cwd=ROOT,
        env=inherited | (env or {}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_key_lifecycle_through_the_commands(client, instance_path):
    created = invoke(
        "create-application-key", "-n", "demo", "-p", "ADMIN", instance_path=instance_path
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("API_TOKEN=")
    key = created.stdout.strip().removeprefix("API_TOKEN=")
    assert client.get("/applications/me", headers={"Workflow-API-Key": key}).status_code == 200

    listed = invoke("list-applications", instance_path=instance_path)
    assert "demo" in listed.stdout
    assert key not in listed.stdout + listed.stderr

    revoked = invoke("revoke-application-key", "-n", "demo", instance_path=instance_path)
    assert revoked.returncode == 0
    assert client.get("/applications/me", headers={"Workflow-API-Key": key}).status_code == 401


def test_unknown_permission_is_refused_with_the_known_ones(client, instance_path):
    result = invoke("create-application-key", "-n", "x", "-p", "GOD", instance_path=instance_path)

    assert result.returncode == 2
    assert "unknown permission(s) GOD" in result.stderr
    assert "DATA_STEWARD" in result.stderr


def test_several_permissions_can_be_given(client, instance_path):
    result = invoke(
        "create-application-key",
        "-n",
        "w",
        "-p",
        "WORKER",
        "-p",
        "FEED_PUBLISHER",
        instance_path=instance_path,
    )
    key = result.stdout.strip().removeprefix("API_TOKEN=")

    me = client.get("/applications/me", headers={"Workflow-API-Key": key}).json

    assert me["permissions"] == ["FEED_PUBLISHER", "WORKER"]


def test_dev_token_and_grant_commands_let_a_user_create_a_package(client, db, instance_path):
    from uuid import uuid4

    from tests.support.factories import create_dataset
    from tests.support.users import Researcher

    create_dataset("DSCLI", files=1)
    user_id = str(uuid4())
    granted = invoke(
        "grant-access",
        "--user-id",
        user_id,
        "--dataset",
        "DSCLI",
        "--days",
        "7",
        instance_path=instance_path,
    )
    assert granted.returncode == 0, granted.stderr
    token = invoke("issue-dev-token", "--user-id", user_id, instance_path=instance_path)
    assert token.returncode == 0, token.stderr
    researcher = Researcher(client.application)

    response = client.post(
        "/work-packages",
        json={
            "type": "download",
            "dataset_id": "DSCLI",
            "user_public_crypt4gh_key": researcher.public_key,
        },
        headers={"Authorization": f"Bearer {token.stdout.strip()}"},
    )

    assert response.status_code == 201


def test_grant_for_an_unknown_dataset_is_refused(client, instance_path):
    from uuid import uuid4

    result = invoke(
        "grant-access", "--user-id", str(uuid4()), "--dataset", "NOPE", instance_path=instance_path
    )

    assert result.returncode == 1
    assert "Dataset NOPE not found" in result.stderr


def test_event_commands_list_and_replay_dead_events(client, db, instance_path):
    from app.feeds.models import InboxEvent
    from tests.support.factories import ApplicationKeyFactory, dataset_event

    key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}
    client.post("/events", json=dataset_event("DS1", event_id="cli-event"), headers=key)
    event = db.session.query(InboxEvent).one()
    event.status = "dead"
    db.session.commit()

    listed = invoke("events", "--status", "dead", instance_path=instance_path)
    replayed = invoke("replay-event", "--event-id", "cli-event", instance_path=instance_path)
    again = invoke("replay-event", "--event-id", "cli-event", instance_path=instance_path)

    assert "cli-event" in listed.stdout
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.strip() == "cli-event: applied"
    assert again.returncode == 1
    assert "not dead" in again.stderr


def test_operators_create_and_accept_users(client, db, instance_path):
    created = invoke(
        "create-user",
        "--name",
        "Grace",
        "--email",
        "grace@example.org",
        instance_path=instance_path,
    )
    accepted = invoke("accept-user", "--email", "GRACE@example.org", instance_path=instance_path)
    again = invoke("accept-user", "--email", "grace@example.org", instance_path=instance_path)
    unknown = invoke("accept-user", "--email", "nobody@example.org", instance_path=instance_path)

    assert created.returncode == 0, created.stderr
    refresh_token = created.stdout.split("REFRESH_TOKEN=")[1].strip()
    assert accepted.stdout.strip() == "GRACE@example.org: active"
    assert again.returncode == 1 and "The account is active already" in again.stderr
    assert unknown.returncode == 1
    tokens = client.post("/token/refresh", json={"refresh_token": refresh_token})
    assert tokens.status_code == 200


def _one_line_refusal(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_a_taken_application_name_is_one_line_and_a_failure(client, instance_path):
    first = invoke("create-application-key", "-n", "steward", "-p", "DATA_STEWARD",
                   instance_path=instance_path)  # fmt: skip
    again = invoke("create-application-key", "-n", "steward", "-p", "DATA_STEWARD",
                   instance_path=instance_path)  # fmt: skip

    assert first.returncode == 0
    assert _one_line_refusal(again) == (
        "error: application 'steward' already has a live key; revoke it first "
        "(invoke revoke-application-key -n steward) or choose another name"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("issue-dev-token", "--user-id", "nope"), "error: id: Input should be a valid UUID"),
        (("grant-access", "--user-id", "x", "--dataset", "D"),
         "error: user_id: Input should be a valid"),
        (("grant-access", "--user-id", str(uuid4()), "--dataset", "D", "--days", "1y"),
         "error: --days takes a number, not '1y'"),
        (("events", "--status", "lost"), "error: status: Input should be 'pending'"),
        (("create-user", "--name", "A", "--email", "no-at-sign"),
         "error: email: value is not a valid"),
        (("accept-user", "--email", "nobody@example.org"), "error: no account waiting for accept"),
        (("issue-refresh-token", "nobody@example.org"), "error: No account for nobody@"),
        (("revoke-application-key", "-n", "never-made"), "error: no live key for application"),
    ],
)  # fmt: skip
def test_operator_command_failures_are_one_line(client, instance_path, arguments, message):
    assert _one_line_refusal(invoke(*arguments, instance_path=instance_path)).startswith(message)


def test_an_operator_issues_a_new_refresh_token_by_email_or_id(client, db, instance_path):
    created = invoke("create-user", "--name", "Grace", "--email", "grace@example.org",
                     instance_path=instance_path)  # fmt: skip
    user_id = created.stdout.split("USER_ID=")[1].split()[0]
    first = remember(created.stdout.split("REFRESH_TOKEN=")[1].strip())
    invoke("accept-user", "--email", "grace@example.org", instance_path=instance_path)
    spent = client.post("/token/refresh", json={"refresh_token": first})
    remember(spent.json["refresh_token"])
    remember(spent.json["access_token"])

    exists = invoke("create-user", "--name", "Grace", "--email", "grace@example.org",
                    instance_path=instance_path)  # fmt: skip
    by_email = invoke("issue-refresh-token", "GRACE@example.org", instance_path=instance_path)
    by_id = invoke("issue-refresh-token", user_id, instance_path=instance_path)

    assert _one_line_refusal(exists) == (
        "error: An account for grace@example.org exists; "
        "`invoke issue-refresh-token grace@example.org` gives its person a new refresh token"
    )
    assert by_email.returncode == by_id.returncode == 0
    assert by_email.stdout.startswith(f"USER_ID={user_id}\nREFRESH_TOKEN=wpsrt_")
    newest = remember(by_id.stdout.split("REFRESH_TOKEN=")[1].strip())
    older = remember(by_email.stdout.split("REFRESH_TOKEN=")[1].strip())
    assert client.post("/token/refresh", json={"refresh_token": first}).status_code == 401
    assert client.post("/token/refresh", json={"refresh_token": older}).status_code == 401
    pair = client.post("/token/refresh", json={"refresh_token": newest})
    assert pair.status_code == 200
    remember(pair.json["refresh_token"])
    remember(pair.json["access_token"])


def test_a_disabled_account_gets_no_token_until_it_is_enabled(client, db, instance_path):
    from app.accounts.models import User

    invoke("create-user", "--name", "Ada", "--email", "ada@example.org", "--admin",
           instance_path=instance_path)  # fmt: skip
    user = db.session.query(User).one()
    user.status = "disabled"
    db.session.commit()

    refused = invoke("issue-refresh-token", "ada@example.org", instance_path=instance_path)
    user.status = "active"
    db.session.commit()
    issued = invoke("issue-refresh-token", "ada@example.org", instance_path=instance_path)

    assert _one_line_refusal(refused) == (
        "error: A disabled account gets no refresh token; enable it first"
    )
    token = remember(issued.stdout.split("REFRESH_TOKEN=")[1].strip())
    pair = client.post("/token/refresh", json={"refresh_token": token})
    assert pair.status_code == 200
    remember(pair.json["refresh_token"])
    remember(pair.json["access_token"])
