"""Application keys: the credential table for GET /applications/me."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.applications.services import revoke_application_key
from app.authz.application_keys import Application
from tests.support.factories import ApplicationKeyFactory


def test_live_key_sees_its_own_identity(client, db):
    issued = ApplicationKeyFactory(name="demo", permissions=("DATA_STEWARD", "WORKER"))

    response = client.get("/applications/me", headers={"Workflow-API-Key": issued.key})

    assert response.status_code == 200
    assert response.json["name"] == "demo"
    assert response.json["permissions"] == ["DATA_STEWARD", "WORKER"]
    assert response.json["key_prefix"] == issued.key[:8]


@pytest.mark.parametrize(
    ("credential", "expected_detail"),
    [
        (None, "Missing API key"),
        ("not-a-key-we-ever-issued", "Invalid API key"),
        ("revoked", "API key revoked or expired"),
        ("expired", "API key revoked or expired"),
    ],
)
def test_bad_keys_are_401(client, db, credential, expected_detail):
    if credential == "revoked":
        credential = ApplicationKeyFactory(name="old").key
        revoke_application_key("old")
        db.session.commit()
    elif credential == "expired":
        credential = ApplicationKeyFactory(expires_at=datetime.now(UTC) - timedelta(seconds=1)).key
    headers = {"Workflow-API-Key": credential} if credential else {}

    response = client.get("/applications/me", headers=headers)

    assert response.status_code == 401
    assert response.json == {"detail": expected_detail, "code": "invalid_api_key"}


def test_only_the_hash_and_prefix_of_a_key_are_stored(db):
    issued = ApplicationKeyFactory()

    row = db.session.scalars(select(Application)).one()

    stored = " ".join(str(value) for value in vars(row).values())
    assert issued.key not in stored
    assert len(row.key_hash) == 64
    assert row.key_prefix == issued.key[:8]


def test_use_is_stamped_on_the_application(client, db):
    issued = ApplicationKeyFactory()

    client.get("/applications/me", headers={"Workflow-API-Key": issued.key})

    db.session.expire_all()
    assert db.session.scalars(select(Application)).one().last_used_at is not None


def test_a_key_without_the_permission_is_told_which_one_it_needs(client, db):
    publisher = ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key

    listing = client.get("/datasets", headers={"Workflow-API-Key": publisher})
    accounts = client.get("/users", headers={"Workflow-API-Key": publisher})

    assert (listing.status_code, listing.json["code"]) == (403, "permission_denied")
    assert listing.json["detail"].endswith(
        "it needs ADMIN or DATA_STEWARD (it holds FEED_PUBLISHER)"
    )
    assert accounts.status_code == 403
    assert accounts.json["detail"].endswith(
        "it needs ADMIN or USER_ADMIN (it holds FEED_PUBLISHER)"
    )
