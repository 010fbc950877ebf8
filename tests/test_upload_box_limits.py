"""GHGA parity 2026 for upload boxes: `max_size` (ghga-event-schemas 13), the upload
controller 15's 429/507 and listing parameters, and box deletion taking its work
packages (WPS 11.1). Payloads are the wire shapes GHGA's publishers send."""

from uuid import uuid4

import pytest
from sqlalchemy import func, select

from app.catalog.models import UploadBox
from app.work_packages.models import WorkPackage
from tests.support.factories import (
    create_upload_box,
    event,
    ghga_v13_box,
    grant,
    upload_box_payload,
)
from tests.test_transfer_api import create_upload, part_url, wot


def box_upserted(payload: dict, **options) -> dict:
    return event("upload-boxes", "upserted", payload["id"], payload, **options)


def stored_box(db, box_id) -> UploadBox:
    db.session.expire_all()
    return db.session.get(UploadBox, box_id)


# -- the limit arrives (events and the steward API) -----------------------------------


def test_a_v13_box_event_is_applied_with_its_max_size(client, db, publisher_key):
    payload = ghga_v13_box(max_size=5_000_000_000_000)

    response = client.post("/events", json=box_upserted(payload), headers=publisher_key)

    assert response.status_code == 202, response.json
    assert stored_box(db, payload["id"]).max_size == 5_000_000_000_000


def test_a_box_event_without_max_size_means_no_limit(client, db, publisher_key):
    payload = upload_box_payload()  # as publishers before ghga-event-schemas 13 send it

    client.post("/events", json=box_upserted(payload), headers=publisher_key)

    assert stored_box(db, payload["id"]).max_size is None


@pytest.mark.parametrize("bad", [-1, "lots", 2**63])
def test_a_box_event_with_an_impossible_max_size_is_refused_whole(client, db, publisher_key, bad):
    response = client.post(
        "/events", json=box_upserted(ghga_v13_box(max_size=bad)), headers=publisher_key
    )

    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["body", 0, "payload", "max_size"]
    assert db.session.scalar(select(func.count()).select_from(UploadBox)) == 0


def test_the_steward_api_stores_and_shows_max_size(client, db, steward_key):
    payload = ghga_v13_box(max_size=1234)

    put = client.put(f"/upload-boxes/{payload['id']}", json=payload, headers=steward_key)
    lowered = client.put(
        f"/upload-boxes/{payload['id']}", json=payload | {"max_size": 10}, headers=steward_key
    )
    negative = client.put(
        f"/upload-boxes/{payload['id']}", json=payload | {"max_size": -5}, headers=steward_key
    )

    assert put.status_code == 201 and put.json["max_size"] == 1234
    assert lowered.status_code == 200 and lowered.json["max_size"] == 10
    assert negative.status_code == 422
    assert stored_box(db, payload["id"]).max_size == 10


def test_a_stale_box_version_over_the_api_is_409_and_changes_nothing(client, db, steward_key):
    payload = ghga_v13_box(version=4, max_size=100)
    client.put(f"/upload-boxes/{payload['id']}", json=payload, headers=steward_key)

    stale = client.put(
        f"/upload-boxes/{payload['id']}",
        json=payload | {"version": 3, "max_size": 1},
        headers=steward_key,
    )

    assert stale.status_code == 409
    assert stale.json["code"] == "stale_version"
    assert stored_box(db, payload["id"]).max_size == 100


# -- the upload controller's limits -------------------------------------------------


@pytest.fixture
def small_box(db):
    return create_upload_box(max_size=250)


def test_a_new_upload_beyond_max_size_is_507_in_ghgas_shape(client, app, db, small_box):
    first = create_upload(client, app, small_box, alias="a.bam", decrypted_size=200)
    too_big = create_upload(client, app, small_box, alias="b.bam", decrypted_size=51)
    fits = create_upload(client, app, small_box, alias="c.bam", decrypted_size=50)

    assert first.status_code == 201
    assert too_big.status_code == 507
    assert too_big.json["exception_id"] == "boxMaxSizeExceeded"
    assert too_big.json["data"] == {
        "box_id": str(small_box.file_upload_box_id),
        "max_size": 250,
        "current_size": 200,
        "file_alias": "b.bam",
    }
    assert "does not fit" in too_big.json["description"]
    assert fits.status_code == 201


def test_a_cancelled_upload_frees_its_room(client, app, db, small_box):
    fub = str(small_box.file_upload_box_id)
    first = create_upload(client, app, small_box, alias="a.bam", decrypted_size=200).json
    client.delete(
        f"/upload/boxes/{fub}/uploads/{first['file_id']}",
        headers=wot(app, work_type="delete", file_id=first["file_id"], box_id=fub),
    )

    again = create_upload(client, app, small_box, alias="b.bam", decrypted_size=250)

    assert again.status_code == 201


def test_parts_are_refused_with_507_once_the_limit_drops_below_the_box(
    client, app, db, small_box, steward_key
):
    created = create_upload(client, app, small_box, alias="a.bam", decrypted_size=200).json
    signed = part_url(client, app, small_box, created["file_id"])
    lowered = upload_box_payload(
        small_box.id, small_box.file_upload_box_id, version=1, max_size=100
    )
    client.put(f"/upload-boxes/{small_box.id}", json=lowered, headers=steward_key)

    put = client.put(signed, data=b"x" * 252)
    fub = str(small_box.file_upload_box_id)
    url = client.get(
        f"/upload/boxes/{fub}/uploads/{created['file_id']}/parts/1",
        headers=wot(app, work_type="upload", file_id=created["file_id"], box_id=fub),
    )

    for response in (put, url):
        assert response.status_code == 507
        assert response.json["exception_id"] == "boxMaxSizeExceeded"
        assert response.json["data"]["max_size"] == 100


def test_too_many_open_uploads_is_429_until_one_closes(client, app, db):
    box = create_upload_box()  # no size limit: only the open-upload count counts
    limit = app.extensions["settings"].max_concurrent_uploads_per_box
    opened = [create_upload(client, app, box, alias=f"f{n}.bam") for n in range(limit)]

    refused = create_upload(client, app, box, alias="one-more.bam")
    fub = str(box.file_upload_box_id)
    cancelled = opened[0].json["file_id"]
    client.delete(
        f"/upload/boxes/{fub}/uploads/{cancelled}",
        headers=wot(app, work_type="delete", file_id=cancelled, box_id=fub),
    )
    after = create_upload(client, app, box, alias="one-more.bam")

    assert limit == 5  # GHGA's upload controller 15 default
    assert [r.status_code for r in opened] == [201] * limit
    assert refused.status_code == 429
    assert refused.json["exception_id"] == "tooManyOpenUploads"
    assert refused.json["data"] == {"box_id": fub, "max_concurrent": limit}
    assert after.status_code == 201


# -- listings ----------------------------------------------------------------------


def listing(client, app, box, query: str = ""):
    fub = str(box.file_upload_box_id)
    return client.get(
        f"/upload/boxes/{fub}/uploads{query}", headers=wot(app, work_type="view", box_id=fub)
    )


def test_listings_sort_by_alias_by_default_and_by_the_given_fields(client, app, db):
    box = create_upload_box()
    for alias, size in (("c.bam", 10), ("a.bam", 30), ("b.bam", 20)):
        create_upload(client, app, box, alias=alias, decrypted_size=size)

    default = listing(client, app, box)
    by_size = listing(client, app, box, "?sort=-decrypted_size")
    unknown = listing(client, app, box, "?sort=bucket_id")

    assert [i["alias"] for i in default.json["items"]] == ["a.bam", "b.bam", "c.bam"]
    assert [i["alias"] for i in by_size.json["items"]] == ["a.bam", "b.bam", "c.bam"]
    assert [i["decrypted_size"] for i in by_size.json["items"]] == [30, 20, 10]
    assert unknown.status_code == 422
    assert "bucket_id" in unknown.json["detail"][0]["msg"]


def test_part_checksums_are_listed_only_when_asked_for(client, app, db, box_with_closed_upload):
    box, md5s, sha256s = box_with_closed_upload

    plain = listing(client, app, box).json["items"][0]
    full = listing(client, app, box, "?with_checksums=true").json["items"][0]

    assert plain["encrypted_parts_md5"] is None and plain["encrypted_parts_sha256"] is None
    assert full["encrypted_parts_md5"] == md5s
    assert full["encrypted_parts_sha256"] == sha256s


@pytest.fixture
def box_with_closed_upload(client, app, db):
    import hashlib

    box = create_upload_box()
    content = b"\x01" * 252
    created = create_upload(client, app, box).json
    client.put(part_url(client, app, box, created["file_id"]), data=content)
    md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(content).hexdigest()
    fub = str(box.file_upload_box_id)
    closed = client.patch(
        f"/upload/boxes/{fub}/uploads/{created['file_id']}",
        json={
            "decrypted_sha256": "ab" * 32,
            "encrypted_md5": hashlib.md5(bytes.fromhex(md5), usedforsecurity=False).hexdigest()
            + "-1",
            "encrypted_parts_md5": [md5],
            "encrypted_parts_sha256": [sha256],
        },
        headers=wot(app, work_type="close", file_id=created["file_id"], box_id=fub),
    )
    assert closed.status_code == 204, closed.json
    return box, [md5], [sha256]


# -- deleting a box takes its work packages ------------------------------------------


@pytest.fixture
def upload_package(client, db, researcher):
    box = create_upload_box()
    grant(researcher.id, box=box.id)
    created = client.post(
        "/work-packages",
        json={
            "type": "upload",
            "research_data_upload_box_id": str(box.id),
            "user_public_crypt4gh_key": researcher.public_key,
        },
        headers=researcher.headers(),
    ).json
    wpat = {"Authorization": f"Bearer {researcher.open_sealed(created['token'])}"}
    return box, created, wpat


def token_request(client, package_id, box, wpat):
    return client.post(
        f"/work-packages/{package_id}/boxes/{box.id}/work-order-tokens",
        json={"work_type": "view"},
        headers=wpat,
    )


def packages(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(WorkPackage))


@pytest.mark.parametrize("channel", ["api", "event"])
def test_deleting_a_box_deletes_its_packages_and_their_tokens_stop(
    client, db, upload_package, steward_key, publisher_key, channel
):
    box, created, wpat = upload_package
    assert token_request(client, created["id"], box, wpat).status_code == 201

    if channel == "api":
        assert client.delete(f"/upload-boxes/{box.id}", headers=steward_key).status_code == 204
    else:
        deletion = event("upload-boxes", "deleted", str(box.id), {})
        assert client.post("/events", json=deletion, headers=publisher_key).status_code == 202

    refused = token_request(client, created["id"], box, wpat)
    unknown = token_request(client, str(uuid4()), box, wpat)
    assert packages(db) == 0
    assert refused.status_code == unknown.status_code == 403
    assert refused.json == unknown.json
