"""Text the database cannot store (NUL, lone surrogates) is a 422 everywhere; nothing is written."""

import json

import pytest
from sqlalchemy import func, select

from app.access.models import AccessRequest
from app.catalog.models import Dataset, UploadBox
from app.feeds.models import InboxEvent
from app.feeds.validation import InvalidEvent, validate_event
from app.jobs.models import MaintenanceChange
from app.transfer.models import FileUpload
from tests.support.factories import (
    ApplicationKeyFactory,
    create_dataset,
    create_upload_box,
    dataset_payload,
    event,
    upload_box_payload,
)
from tests.test_transfer_api import wot

NUL = "\u0000"


def count(db, model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def refused_fields(response) -> list[list]:
    assert response.status_code == 422, response.json
    assert response.json["code"] == "validation_error"
    return [e["loc"] for e in response.json["detail"] if e["type"] == "unstorable_text"]


def test_a_dataset_title_with_nul_is_422_and_not_stored(client, db, steward_key):
    body = dataset_payload("DS1") | {"title": f"bad{NUL}title"}

    response = client.put("/datasets/DS1", json=body, headers=steward_key)

    assert refused_fields(response) == [["body", "title"]]
    assert count(db, Dataset) == 0


def test_nul_deep_in_a_list_and_in_an_ignored_field_is_named(client, db, steward_key):
    body = dataset_payload("DS1", files=2)
    body["files"][1]["description"] = NUL
    body["unused"] = {"note": f"x{NUL}"}

    response = client.put("/datasets/DS1", json=body, headers=steward_key)

    assert sorted(refused_fields(response)) == [
        ["body", "files", 1, "description"],
        ["body", "unused", "note"],
    ]


def test_a_lone_surrogate_is_refused_like_nul(client, db, steward_key):
    raw = json.dumps(dataset_payload("DS1")).replace('"Dataset DS1"', '"bad \\ud800"')

    response = client.put(
        "/datasets/DS1", data=raw, content_type="application/json", headers=steward_key
    )

    assert refused_fields(response) == [["body", "title"]]
    assert count(db, Dataset) == 0


def test_other_control_characters_are_stored_as_given(client, db, steward_key):
    title = "tab\tbell\x07escape\x1bend\x7f"
    body = dataset_payload("DS1") | {"title": title}

    stored = client.put("/datasets/DS1", json=body, headers=steward_key)

    assert stored.status_code == 201
    assert client.get("/datasets/DS1", headers=steward_key).json["title"] == title


def test_an_upload_box_title_with_nul_is_422(client, db, steward_key):
    body = upload_box_payload(title=f"box{NUL}")

    response = client.put(f"/upload-boxes/{body['id']}", json=body, headers=steward_key)

    assert refused_fields(response) == [["body", "title"]]
    assert count(db, UploadBox) == 0


def test_a_maintenance_message_with_nul_is_422(client, db):
    jobs_key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("JOBS_ADMIN",)).key}

    response = client.post(
        "/maintenance-status", json={"msg": f"down{NUL}", "paused": True}, headers=jobs_key
    )

    assert refused_fields(response) == [["body", "msg"]]
    assert count(db, MaintenanceChange) == 0


def test_an_access_request_note_with_nul_is_422(client, db, researcher):
    create_dataset("DS1")

    response = client.post(
        "/access-requests",
        json={"dataset_id": "DS1", "note": f"please{NUL}"},
        headers=researcher.headers(),
    )

    assert refused_fields(response) == [["body", "note"]]
    assert count(db, AccessRequest) == 0


def test_an_upload_alias_with_nul_is_422(client, app, db):
    box = create_upload_box()
    alias = f"reads{NUL}.bam"
    headers = wot(app, work_type="create", alias=alias, box_id=str(box.file_upload_box_id))
    body = {"alias": alias, "decrypted_size": 1, "encrypted_size": 153, "part_size": 100}

    response = client.post(
        f"/upload/boxes/{box.file_upload_box_id}/uploads", json=body, headers=headers
    )

    assert response.status_code == 422
    assert count(db, FileUpload) == 0


@pytest.mark.parametrize(
    "url",
    [
        "/events?topic=%00",
        "/access-grants?dataset_id=a%00b",
        "/events/a%00b",
    ],
)
def test_nul_in_a_query_or_path_is_422(client, db, steward_key, url):
    response = client.get(url, headers=steward_key)

    assert response.status_code == 422
    assert response.json["code"] == "validation_error"


def test_an_event_batch_with_nul_in_one_payload_is_refused_whole(client, db, publisher_key):
    good = event("metadata-datasets", "dataset_upserted", "DS1", dataset_payload("DS1"))
    bad = event(
        "metadata-datasets",
        "dataset_upserted",
        "DS2",
        dataset_payload("DS2") | {"title": f"bad{NUL}"},
    )

    response = client.post("/events", json=[good, bad], headers=publisher_key)

    assert refused_fields(response) == [["body", 1, "payload", "title"]]
    assert count(db, InboxEvent) == 0


def test_validate_event_is_what_a_consumer_calls_for_one_event(app, db):
    upserted = event("metadata-datasets", "dataset_upserted", "DS1", dataset_payload("DS1"))
    with_nul = upserted | {"payload": upserted["payload"] | {"title": NUL}}
    unknown_type = upserted | {"type": "dataset_exploded"}
    other_key = upserted | {"key": "DS2"}

    assert validate_event(upserted).key == "DS1"
    for bad, loc in [
        (with_nul, ["payload", "title"]),
        (unknown_type, ["type"]),
        (other_key, ["key"]),
        ({"topic": "metadata-datasets"}, ["event_id"]),
    ]:
        with pytest.raises(InvalidEvent) as refused:
            validate_event(bad)
        assert loc in [problem["loc"] for problem in refused.value.detail], bad
        assert refused.value.status == 422


def test_numbers_beyond_their_columns_are_422(client, db, steward_key):
    box = upload_box_payload(version=2**31)

    response = client.put(f"/upload-boxes/{box['id']}", json=box, headers=steward_key)

    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["body", "version"]
    assert count(db, UploadBox) == 0
