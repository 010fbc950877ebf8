"""Access requests over the API: a person asks for a dataset, a data steward decides once."""

from datetime import UTC, datetime, timedelta

import pytest

from app import create_app
from tests.conftest import make_settings
from tests.support.factories import ApplicationKeyFactory, create_dataset
from tests.support.users import Researcher


@pytest.fixture
def access_app(db, instance_path):
    # Grants bound to verification addresses are tested in tests/test_ivas.py, and
    # tokens made after the second factor in tests/test_second_factor.py.
    return create_app(
        make_settings(instance_path, require_second_factor=False, require_iva_for_download=False)
    )


def test_a_decided_request_cannot_be_decided_again(access_app, db):
    client = access_app.test_client()
    create_dataset("DS1", files=1)
    researcher = Researcher(access_app)
    asked = client.post(
        "/access-requests", json={"dataset_id": "DS1"}, headers=researcher.headers()
    )
    steward = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}

    denied = client.post(
        f"/access-requests/{asked.json['id']}/deny", json={"note": "no"}, headers=steward
    )
    again = client.post(f"/access-requests/{asked.json['id']}/allow", json={}, headers=steward)
    unknown_target = client.post(
        "/access-requests", json={"dataset_id": "NOPE"}, headers=researcher.headers()
    )

    assert denied.json["status"] == "denied"
    assert (again.status_code, again.json["code"]) == (409, "access_request_decided")
    assert unknown_target.status_code == 404


def test_allowing_a_request_needs_no_body(access_app, db):
    client = access_app.test_client()
    create_dataset("DS1", files=1)
    researcher = Researcher(access_app)
    asked = client.post(
        "/access-requests", json={"dataset_id": "DS1"}, headers=researcher.headers()
    ).json
    steward = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}

    allowed = client.post(f"/access-requests/{asked['id']}/allow", headers=steward)

    assert allowed.status_code == 200
    assert allowed.json["status"] == "allowed" and allowed.json["grant_id"]
    grants = client.get(f"/access-grants?user_id={researcher.id}", headers=steward).json
    until = datetime.fromisoformat(grants["items"][0]["valid_until"])
    assert timedelta(days=364) < until - datetime.now(UTC) <= timedelta(days=366)
