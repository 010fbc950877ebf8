"""Steward endpoints for datasets, upload boxes and accession maps."""

from uuid import uuid4

import pytest
from sqlalchemy import func, select

from app.catalog.models import AccessionMap, Dataset, DatasetFile, UploadBox
from tests.support.factories import ApplicationKeyFactory, dataset_payload, upload_box_payload


def rows(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("permissions", "expected"),
    [(None, 401), (("WORKER",), 403), (("DATA_STEWARD",), 201), (("ADMIN",), 201)],
)
def test_dataset_registration_needs_the_steward_permission(client, db, permissions, expected):
    headers = {}
    if permissions:
        headers = {"Workflow-API-Key": ApplicationKeyFactory(permissions=permissions).key}

    response = client.put("/datasets/DS1", json=dataset_payload("DS1"), headers=headers)

    assert response.status_code == expected
    assert rows(db, Dataset) == (1 if expected == 201 else 0)


def test_dataset_round_trip_and_replacement(client, db, steward_key):
    created = client.put("/datasets/DS1", json=dataset_payload("DS1", files=3), headers=steward_key)
    replaced = client.put(
        "/datasets/DS1", json=dataset_payload("DS1", files=1), headers=steward_key
    )
    fetched = client.get("/datasets/DS1", headers=steward_key)

    assert created.status_code == 201
    assert replaced.status_code == 200
    assert fetched.json["files"] == [
        {"accession": "GHGAFDS10000", "description": "file 0", "file_extension": ".bam"}
    ]
    assert rows(db, DatasetFile) == 1


def test_dataset_list_pages(client, db, steward_key):
    for n in range(3):
        client.put(f"/datasets/DS{n}", json=dataset_payload(f"DS{n}"), headers=steward_key)

    page = client.get("/datasets?skip=1&limit=1", headers=steward_key)

    assert page.json["total_count"] == 3
    assert [d["accession"] for d in page.json["items"]] == ["DS1"]


def test_dataset_list_counts_files_instead_of_listing_them(client, db, steward_key):
    client.put("/datasets/BIG", json=dataset_payload("BIG", files=5), headers=steward_key)
    client.put("/datasets/EMPTY", json=dataset_payload("EMPTY", files=0), headers=steward_key)

    listed = client.get("/datasets", headers=steward_key).json["items"]

    assert [(d["accession"], d["file_count"]) for d in listed] == [("BIG", 5), ("EMPTY", 0)]
    assert all("files" not in d for d in listed)


def test_dataset_files_are_paged_in_dataset_order(client, db, steward_key):
    client.put("/datasets/DS1", json=dataset_payload("DS1", files=5), headers=steward_key)

    page = client.get("/datasets/DS1/files?skip=1&limit=2", headers=steward_key)
    whole = client.get("/datasets/DS1", headers=steward_key)
    missing = client.get("/datasets/NOPE/files", headers=steward_key)
    too_many = client.get("/datasets/DS1/files?limit=1001", headers=steward_key)

    assert page.status_code == 200
    assert page.json["total_count"] == 5
    assert [f["accession"] for f in page.json["items"]] == ["GHGAFDS10001", "GHGAFDS10002"]
    assert len(whole.json["files"]) == 5
    assert missing.status_code == 404
    assert too_many.status_code == 422


def test_dataset_delete_then_404(client, db, steward_key):
    client.put("/datasets/DS1", json=dataset_payload("DS1"), headers=steward_key)

    deleted = client.delete("/datasets/DS1", headers=steward_key)
    again = client.delete("/datasets/DS1", headers=steward_key)

    assert deleted.status_code == 204
    assert again.status_code == 404
    assert again.json["code"] == "dataset_not_found"
    assert rows(db, DatasetFile) == 0


@pytest.mark.parametrize(
    ("path", "change", "where"),
    [
        ("DS1", {"accession": "DS2"}, ["body", "accession"]),
        ("DS1", {"stage": "archived"}, ["body", "stage"]),
        ("DS1", {"dac_email": "not-an-email"}, ["body", "dac_email"]),
        ("bad accession!", {}, ["path", "accession"]),
    ],
)
def test_invalid_datasets_are_422_and_not_stored(client, db, steward_key, path, change, where):
    body = dataset_payload("DS1") | change

    response = client.put(f"/datasets/{path}", json=body, headers=steward_key)

    assert response.status_code == 422
    assert where in [error["loc"] for error in response.json["detail"]]
    assert rows(db, Dataset) == 0


def test_file_accessions_must_have_the_file_form_and_be_unique(client, db, steward_key):
    wrong_form = dataset_payload("DS1")
    wrong_form["files"][0]["accession"] = "XYZ123"
    twice = dataset_payload("DS1")
    twice["files"][1]["accession"] = twice["files"][0]["accession"]

    for body in (wrong_form, twice):
        response = client.put("/datasets/DS1", json=body, headers=steward_key)
        assert response.status_code == 422
    assert rows(db, Dataset) == 0


def test_unknown_event_fields_are_tolerated(client, db, steward_key):
    body = dataset_payload("DS1") | {"study_accession": "ST1"}

    assert client.put("/datasets/DS1", json=body, headers=steward_key).status_code == 201


def test_upload_box_versions_only_move_forward(client, db, steward_key):
    box_id, fub = uuid4(), uuid4()
    first = upload_box_payload(box_id, fub, version=2)
    older = upload_box_payload(box_id, fub, version=1, title="Old title")
    newer = upload_box_payload(box_id, fub, version=3, state="locked")

    assert client.put(f"/upload-boxes/{box_id}", json=first, headers=steward_key).status_code == 201
    stale = client.put(f"/upload-boxes/{box_id}", json=older, headers=steward_key)
    assert client.put(f"/upload-boxes/{box_id}", json=newer, headers=steward_key).status_code == 200

    assert stale.status_code == 409
    assert stale.json["code"] == "stale_version"
    stored = client.get(f"/upload-boxes/{box_id}", headers=steward_key).json
    assert (stored["version"], stored["state"], stored["title"]) == (3, "locked", "Submission box")


def test_a_file_upload_box_belongs_to_one_upload_box(client, db, steward_key):
    fub = uuid4()
    a, b = upload_box_payload(file_upload_box_id=fub), upload_box_payload(file_upload_box_id=fub)

    client.put(f"/upload-boxes/{a['id']}", json=a, headers=steward_key)
    response = client.put(f"/upload-boxes/{b['id']}", json=b, headers=steward_key)

    assert response.status_code == 409
    assert response.json["code"] == "file_upload_box_taken"
    assert rows(db, UploadBox) == 1


def test_upload_box_list_delete_and_bad_ids(client, db, steward_key):
    box = upload_box_payload()
    client.put(f"/upload-boxes/{box['id']}", json=box, headers=steward_key)

    listing = client.get("/upload-boxes", headers=steward_key)
    bad = client.get("/upload-boxes/123", headers=steward_key)
    deleted = client.delete(f"/upload-boxes/{box['id']}", headers=steward_key)

    assert listing.json["total_count"] == 1
    assert bad.status_code == 422
    assert deleted.status_code == 204
    assert rows(db, UploadBox) == 0


def test_accession_maps(client, db, steward_key):
    file_id = str(uuid4())

    created = client.put("/accession-maps/GHGAF1", json={"file_id": file_id}, headers=steward_key)
    fetched = client.get("/accession-maps/GHGAF1", headers=steward_key)
    bad_id = client.put("/accession-maps/GHGAF2", json={"file_id": "x"}, headers=steward_key)
    bad_accession = client.put("/accession-maps/X1", json={"file_id": file_id}, headers=steward_key)
    deleted = client.delete("/accession-maps/GHGAF1", headers=steward_key)

    assert created.status_code == 201
    assert fetched.json == {"accession": "GHGAF1", "file_id": file_id}
    assert (bad_id.status_code, bad_accession.status_code) == (422, 422)
    assert deleted.status_code == 204
    assert rows(db, AccessionMap) == 0
