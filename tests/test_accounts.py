"""Accounts and access requests, walked through HTTP as users and admins meet them."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app import create_app
from app.accounts.models import RefreshToken, User
from app.extensions import limiter
from tests.conftest import make_settings
from tests.support.factories import ApplicationKeyFactory, create_dataset
from tests.support.secrets_seen import remember
from tests.support.users import Researcher

ADMIN_EMAIL = "Admin@Example.org"


@pytest.fixture
def accounts_app(db, instance_path, receivers):
    webhook, mail = receivers
    return create_app(
        make_settings(
            instance_path,
            initial_admin_email=ADMIN_EMAIL.lower(),
            notify_webhook_url=webhook.url,
            smtp_host="127.0.0.1",
            smtp_port=mail.port,
            signup_rate_limit="1000 per minute",
            # These tests are about the account API; tokens from signup are not made
            # after a second factor, and grants bound to verification addresses are
            # tested in tests/test_second_factor.py and tests/test_ivas.py.
            require_second_factor=False,
            require_iva_for_download=False,
        )
    )


def signup(client, name, email, title=None):
    response = client.post("/users/signup", json={"name": name, "email": email, "title": title})
    if response.status_code == 201:
        remember(response.json["refresh_token"])
    return response


def create_admin(app, name="Ada Admin", email=ADMIN_EMAIL) -> dict:
    """An active admin made as `invoke create-user --admin` makes one (signup never does)."""
    from app.accounts.models import PersonRole, UserStatus
    from app.accounts.schemas import SignupRequest
    from app.accounts.services import (
        change_role,
        change_status,
        create_local_account,
        issue_refresh_token,
    )
    from app.extensions import db

    with app.app_context():
        user = create_local_account(SignupRequest(name=name, email=email))
        change_status(user.id, UserStatus.ACTIVE, "operator:test", "cli")
        change_role(user.id, PersonRole.ADMIN, "operator:test", "cli")
        token = issue_refresh_token(user.id)
        db.session.commit()
        return {"id": str(user.id), "refresh_token": remember(token), "is_admin": True}


def refresh(client, token):
    response = client.post("/token/refresh", json={"refresh_token": token})
    if response.status_code == 200:
        remember(response.json["access_token"])
        remember(response.json["refresh_token"])
    return response


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_the_whole_journey(accounts_app, receivers, db):
    webhook, mail = receivers
    client = accounts_app.test_client()
    admin = create_admin(accounts_app)
    admin_access = refresh(client, admin["refresh_token"]).json["access_token"]

    user = signup(client, "Grace Hopper", "grace@example.org", "Dr.")
    assert user.status_code == 201
    assert user.json["status"] == "pending"
    assert any("grace@example.org" in t for t in webhook.texts)
    pending = refresh(client, user.json["refresh_token"])
    assert pending.status_code == 403
    assert pending.json == {"detail": "account pending approval", "code": "account_pending"}

    listed = client.get("/users?status=pending", headers=bearer(admin_access)).json
    assert [u["email"] for u in listed["items"]] == ["grace@example.org"]
    accepted = client.post(f"/users/{user.json['id']}/accept", headers=bearer(admin_access))
    assert accepted.json["status"] == "active"
    assert accepted.json["approved_by"] == f"user:{admin['id']}"
    assert [m.rcpt_tos for m in mail.messages] == [["grace@example.org"]]
    assert b"Your account is active" in mail.messages[0].content

    pair = refresh(client, user.json["refresh_token"]).json
    assert pair["expires_in"] == 3600
    me = client.get("/users/me", headers=bearer(pair["access_token"])).json
    assert (me["name"], me["title"]) == ("Grace Hopper", "Dr.")

    create_dataset("DS1", files=1)
    asked = client.post(
        "/access-requests",
        json={"dataset_id": "DS1", "note": "for my thesis"},
        headers=bearer(pair["access_token"]),
    )
    assert asked.status_code == 201
    assert any(asked.json["id"] in t for t in webhook.texts)
    steward = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}
    queue = client.get("/access-requests?status=pending", headers=steward).json
    assert [r["id"] for r in queue["items"]] == [asked.json["id"]]
    allowed = client.post(f"/access-requests/{asked.json['id']}/allow", json={}, headers=steward)
    assert allowed.json["status"] == "allowed" and allowed.json["grant_id"]
    mine = client.get("/users/me/access-requests", headers=bearer(pair["access_token"])).json
    assert [r["status"] for r in mine["items"]] == ["allowed"]

    researcher = Researcher(accounts_app)
    package = client.post(
        "/work-packages",
        json={"type": "download", "dataset_id": "DS1",
              "user_public_crypt4gh_key": researcher.public_key},
        headers=bearer(pair["access_token"]),
    )  # fmt: skip
    assert package.status_code == 201


def test_reusing_a_spent_refresh_token_revokes_the_chain(accounts_app, db):
    client = accounts_app.test_client()
    first = create_admin(accounts_app)["refresh_token"]
    second = refresh(client, first).json["refresh_token"]

    reused = refresh(client, first)
    after = refresh(client, second)

    assert reused.status_code == 401
    assert reused.json["code"] == "refresh_token_reused"
    assert after.status_code == 401
    assert after.json["code"] == "invalid_refresh_token"


def test_signing_up_with_the_initial_admin_address_makes_nobody_admin(accounts_app, db):
    client = accounts_app.test_client()
    claimed = signup(client, "Mallory", ADMIN_EMAIL).json
    other = signup(client, "Bob", "bob@example.org").json

    assert (claimed["status"], claimed["is_admin"], claimed["role"]) == (
        "pending",
        False,
        "researcher",
    )
    assert (other["status"], other["is_admin"]) == ("pending", False)


def test_nothing_secret_is_stored_in_plaintext(accounts_app, db):
    client = accounts_app.test_client()
    first = create_admin(accounts_app)["refresh_token"]
    pair = refresh(client, first).json

    dump = " ".join(
        str(value)
        for table in ("refresh_token", "user_account")
        for row in db.session.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
        for value in row
    )

    for secret in (first, pair["refresh_token"], pair["access_token"]):
        assert secret not in dump
    hashes = db.session.scalars(select(RefreshToken.token_hash)).all()
    assert len(hashes) == 2 and all(len(h) == 64 for h in hashes)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "Eve", "email": "ADMIN@example.ORG"}, 409, "email_taken"),
        ({"name": "Eve", "email": "not-an-email"}, 422, "validation_error"),
        ({"name": "", "email": "eve@example.org"}, 422, "validation_error"),
        ({"name": "<script>", "email": "eve@example.org"}, 422, "validation_error"),
        ({"name": "Eve", "email": "eve@example.org", "role": "admin"}, 422, "validation_error"),
    ],
)
def test_bad_signups(accounts_app, db, body, status, code):
    client = accounts_app.test_client()
    signup(client, "Ada", ADMIN_EMAIL)

    response = client.post("/users/signup", json=body)

    assert response.status_code == status
    assert response.json["code"] == code
    assert db.session.scalar(select(User).where(User.email_key == "eve@example.org")) is None


def test_refresh_refusals(accounts_app, db):
    client = accounts_app.test_client()
    admin = create_admin(accounts_app)
    token = db.session.scalars(select(RefreshToken)).one()
    token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()

    unknown = refresh(client, "wpsrt_nothing")
    expired = refresh(client, admin["refresh_token"])

    assert (unknown.status_code, expired.status_code) == (401, 401)
    assert expired.headers["WWW-Authenticate"] == "Bearer"


def test_disabling_revokes_tokens_and_stops_packages(accounts_app, db):
    client = accounts_app.test_client()
    admin = create_admin(accounts_app)
    admin_access = refresh(client, admin["refresh_token"]).json["access_token"]
    user = signup(client, "Grace", "grace@example.org").json
    client.post(f"/users/{user['id']}/accept", headers=bearer(admin_access))
    pair = refresh(client, user["refresh_token"]).json
    create_dataset("DS1", files=1)
    steward = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}
    client.post(
        "/access-grants",
        json={"user_id": user["id"], "dataset_id": "DS1",
              "valid_until": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
        headers=steward,
    )  # fmt: skip
    researcher = Researcher(accounts_app)
    package = client.post(
        "/work-packages",
        json={"type": "download", "dataset_id": "DS1",
              "user_public_crypt4gh_key": researcher.public_key},
        headers=bearer(pair["access_token"]),
    ).json  # fmt: skip

    disabled = client.post(f"/users/{user['id']}/disable", headers=bearer(admin_access))

    assert disabled.json["status"] == "disabled"
    assert refresh(client, pair["refresh_token"]).status_code == 401
    assert client.get("/users/me", headers=bearer(pair["access_token"])).status_code == 401
    wpat = researcher.open_sealed(package["token"])
    details = client.get(f"/work-packages/{package['id']}", headers=bearer(wpat))
    assert details.status_code == 403
    assert details.json["code"] == "account_disabled"


def test_admin_actions_need_an_admin(accounts_app, db):
    client = accounts_app.test_client()
    signup(client, "Ada", ADMIN_EMAIL)
    user = signup(client, "Grace", "grace@example.org").json
    worker = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("WORKER",)).key}
    user_admin = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("USER_ADMIN",)).key}
    not_admin = Researcher(accounts_app).headers()

    refused = client.get("/users", headers=not_admin)
    assert (refused.status_code, refused.json["code"]) == (403, "role_required")
    assert refused.json["detail"] == (
        "This needs a person whose role allows it, or an API key with USER_ADMIN or ADMIN"
    )
    assert client.get("/users", headers=worker).status_code == 403
    assert client.get("/users").status_code == 401
    accepted = client.post(f"/users/{user['id']}/accept", headers=user_admin)
    assert accepted.json["approved_by"].startswith("application:")
    again = client.post(f"/users/{user['id']}/accept", headers=user_admin)
    assert (again.status_code, again.json["code"]) == (409, "invalid_status_change")


def test_signup_flood_is_429(db, instance_path):
    app = create_app(make_settings(instance_path, signup_rate_limit="3 per minute"))
    client = app.test_client()
    with app.app_context():
        limiter.reset()

    statuses = [signup(client, f"User {n}", f"user{n}@example.org").status_code for n in range(5)]

    assert statuses == [201, 201, 201, 429, 429]
    blocked = signup(client, "Late", "late@example.org")
    assert blocked.json["code"] == "too_many_requests"
    with app.app_context():
        limiter.reset()


def test_signup_is_off_with_an_external_identity_provider(db, instance_path):
    import json

    from app.credentials.jwk import generate_private_jwk, public_jwk

    public = json.dumps(public_jwk(generate_private_jwk()))
    app = create_app(make_settings(instance_path, auth_mode="external", auth_key=public))

    response = signup(app.test_client(), "Eve", "eve@example.org")

    assert response.status_code == 404
    assert response.json["code"] == "signup_disabled"


def test_a_person_locked_out_gets_a_new_refresh_token(accounts_app, db):
    client = accounts_app.test_client()
    admin = create_admin(accounts_app)
    admin_access = refresh(client, admin["refresh_token"]).json["access_token"]
    user = signup(client, "Grace", "grace@example.org").json
    client.post(f"/users/{user['id']}/accept", headers=bearer(admin_access))
    spent = refresh(client, user["refresh_token"]).json["refresh_token"]
    client.post(f"/users/{user['id']}/disable", headers=bearer(admin_access))
    reissue = f"/users/{user['id']}/refresh-token"

    while_disabled = client.post(reissue, headers=bearer(admin_access))
    by_the_person = client.post(reissue, headers=Researcher(accounts_app).headers())
    client.post(f"/users/{user['id']}/enable", headers=bearer(admin_access))
    first = client.post(reissue, headers=bearer(admin_access))
    second = client.post(reissue, headers=bearer(admin_access))
    remember(first.json["refresh_token"])
    remember(second.json["refresh_token"])

    assert (while_disabled.status_code, while_disabled.json["code"]) == (409, "account_blocked")
    assert (
        while_disabled.json["detail"] == "A disabled account gets no refresh token; enable it first"
    )
    assert by_the_person.status_code == 403
    assert first.status_code == 201
    assert first.headers["Cache-Control"] == "no-store"
    assert first.json["user_id"] == user["id"]
    assert refresh(client, spent).status_code == 401
    # A newer token replaces the older one; the newest lets the person in.
    assert refresh(client, first.json["refresh_token"]).status_code == 401
    pair = refresh(client, second.json["refresh_token"])
    assert pair.status_code == 200
    assert pair.headers["Cache-Control"] == "no-store"
    me = client.get("/users/me", headers=bearer(pair.json["access_token"])).json
    assert me["email"] == "grace@example.org"
    stored = db.session.scalars(select(RefreshToken.token_hash)).all()
    assert hashlib.sha256(second.json["refresh_token"].encode()).hexdigest() in stored
