"""Steward endpoints for access grants."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from app.access.models import AccessGrant
from tests.support.factories import create_dataset, create_upload_box


def grants_stored(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AccessGrant))


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def test_grant_create_list_and_revoke(client, db, steward_key):
    create_dataset("DS1")
    box = create_upload_box()
    user = str(uuid4())

    download = client.post(
        "/access-grants",
        json={"user_id": user, "dataset_id": "DS1", "valid_until": in_days(10)},
        headers=steward_key,
    )
    upload = client.post(
        "/access-grants",
        json={
            "user_id": user,
            "research_data_upload_box_id": str(box.id),
            "valid_until": in_days(5),
        },
        headers=steward_key,
    )
    by_dataset = client.get("/access-grants?dataset_id=DS1", headers=steward_key)
    by_user = client.get(f"/access-grants?user_id={user}", headers=steward_key)
    revoked = client.delete(f"/access-grants/{download.json['id']}", headers=steward_key)
    active = client.get(f"/access-grants?user_id={user}", headers=steward_key)
    everything = client.get(
        f"/access-grants?user_id={user}&include_inactive=true", headers=steward_key
    )

    assert download.status_code == 201 and upload.status_code == 201
    assert download.json["kind"] == "download"
    assert download.json["granted_by"].startswith("application:")
    assert by_dataset.json["total_count"] == 1
    assert by_user.json["total_count"] == 2
    assert revoked.status_code == 204 and revoked.data == b""
    assert [g["kind"] for g in active.json["items"]] == ["upload"]
    assert everything.json["total_count"] == 2
    revoked_grant = next(g for g in everything.json["items"] if g["kind"] == "download")
    assert revoked_grant["revoked_at"] is not None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"dataset_id": "NOPE"}, 404),
        ({}, 422),
        ({"dataset_id": "DS1", "research_data_upload_box_id": str(uuid4())}, 422),
        ({"dataset_id": "DS1", "valid_until": "2030-01-01T00:00:00"}, 422),
        ({"dataset_id": "DS1", "valid_until": in_days(-1)}, 422),
        ({"dataset_id": "DS1", "valid_from": in_days(3), "valid_until": in_days(2)}, 422),
        ({"dataset_id": "DS1", "user_id": "not-a-uuid"}, 422),
    ],
)
def test_bad_grants_are_refused_and_not_stored(client, db, steward_key, body, status):
    create_dataset("DS1")
    body = {"user_id": str(uuid4()), "valid_until": in_days(3)} | body

    response = client.post("/access-grants", json=body, headers=steward_key)

    assert response.status_code == status, response.json
    assert grants_stored(db) == 0


def test_revoking_an_unknown_grant_is_404(client, db, steward_key):
    response = client.delete(f"/access-grants/{uuid4()}", headers=steward_key)

    assert response.status_code == 404
    assert response.json["code"] == "grant_not_found"
