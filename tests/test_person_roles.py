"""People act by role: a steward's own access token works where DATA_STEWARD does,
an admin's where ADMIN does; the role is read from the account here, never from a token."""

from datetime import UTC, datetime, timedelta

import pytest

from app.accounts.models import PersonRole, UserStatus
from app.credentials.internal_tokens import AuthUser, issue_internal_token
from tests.support.factories import create_dataset
from tests.support.secrets_seen import remember


def person_with_role(app, role: PersonRole, email: str):
    """An active account with `role`, and an access token got the way its person gets one
    (an API token made in the portal after the second factor)."""
    from app.accounts.schemas import SignupRequest
    from app.accounts.services import (
        change_role,
        change_status,
        create_local_account,
        issue_refresh_token,
    )
    from app.extensions import db

    user = create_local_account(SignupRequest(name=role.value.title(), email=email))
    change_status(user.id, UserStatus.ACTIVE, "operator:test", "cli")
    change_role(user.id, role, "operator:test", "cli")
    refresh_token = remember(issue_refresh_token(user.id, after_second_factor=True))
    db.session.commit()
    pair = app.test_client().post("/token/refresh", json={"refresh_token": refresh_token}).json
    remember(pair["refresh_token"])
    return user, {"Authorization": f"Bearer {remember(pair['access_token'])}"}


@pytest.fixture
def people(app, db):
    return {role: person_with_role(app, role, f"{role.value}@uni.example") for role in PersonRole}


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    [
        ("get", "/datasets", None, {"steward", "admin"}),
        ("get", "/access-requests", None, {"steward", "admin"}),
        ("get", "/jobs", None, {"steward", "admin"}),
        ("post", "/maintenance-status", {"msg": "x", "paused": False}, {"admin"}),
        ("get", "/users", None, {"admin"}),
        ("get", "/account-events", None, {"admin"}),
    ],
)
def test_what_each_role_may_do_with_its_own_token(client, people, method, path, body, allowed):
    for role, (_user, headers) in people.items():
        response = getattr(client, method)(path, json=body, headers=headers)

        expected = 200 if role.value in allowed else 403
        assert response.status_code == expected, (role, path, response.json)


def test_a_stewards_grant_records_the_person(client, people, db):
    steward, headers = people[PersonRole.STEWARD]
    researcher, _ = people[PersonRole.RESEARCHER]
    create_dataset("DS1", files=1)

    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    grant = {"user_id": str(researcher.id), "dataset_id": "DS1", "valid_until": until}

    granted = client.post("/access-grants", json=grant, headers=headers)

    assert granted.status_code == 201
    assert granted.json["granted_by"] == f"user:{steward.id}"


def test_a_role_claim_in_a_token_counts_for_nothing(app, client, people):
    researcher, _ = people[PersonRole.RESEARCHER]
    keys = app.extensions["token_keys"]
    claims_admin = AuthUser(
        id=researcher.id, name="R", email="researcher@uni.example", roles=["admin", "steward"]
    )
    stranger = AuthUser(id="00000000-0000-4000-8000-000000000001", name="S",
                        email="s@uni.example", roles=["admin"])  # fmt: skip
    for user in (claims_admin, stranger):
        token = remember(issue_internal_token(keys, user, timedelta(minutes=5)))

        response = client.get("/datasets", headers={"Authorization": f"Bearer {token}"})

        assert response.status_code == 403
        assert response.json["code"] == "permission_denied"


def test_a_changed_role_counts_at_once(client, people, db):
    from app.accounts.services import change_role

    steward, headers = people[PersonRole.STEWARD]
    assert client.get("/datasets", headers=headers).status_code == 200

    change_role(steward.id, PersonRole.RESEARCHER, "operator:test", "cli")
    db.session.commit()

    assert client.get("/datasets", headers=headers).status_code == 403


def test_application_endpoints_stay_for_applications(client, people):
    _admin, headers = people[PersonRole.ADMIN]

    response = client.get("/applications/me", headers=headers)

    assert response.status_code == 401
    assert response.json["detail"] == "Missing API key"
