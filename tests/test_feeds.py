"""POST /events: validation, idempotence, and applying (eagerly, as in the embedded default)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from app import create_app
from app.catalog.models import AccessionMap, Dataset, UploadBox
from app.feeds.models import InboxEvent
from app.work_packages.models import WorkPackage
from tests.conftest import make_settings
from tests.support.factories import (
    ApplicationKeyFactory,
    accession_map_event,
    box_event,
    create_dataset,
    dataset_deleted_event,
    dataset_event,
    event,
    grant,
    upload_box_payload,
)
from tests.support.hostile_inputs import hostile_documents


def stored_events(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(InboxEvent))


def publish(client, key, body):
    return client.post("/events", json=body, headers=key)


def test_one_event_is_accepted_and_applied(client, db, publisher_key):
    response = publish(client, publisher_key, dataset_event("DS1", event_id="e1"))

    assert response.status_code == 202
    assert response.json == {"results": [{"event_id": "e1", "status": "accepted"}]}
    assert db.session.get(Dataset, "DS1").title == "Dataset DS1"
    assert db.session.scalars(select(InboxEvent)).one().status == "applied"


def test_a_repeated_event_id_is_a_duplicate_and_changes_nothing(client, db, publisher_key):
    publish(client, publisher_key, dataset_event("DS1", event_id="e1"))
    changed = dataset_event("DS1", event_id="e1")
    changed["payload"]["title"] = "Changed"

    response = publish(client, publisher_key, [changed, dataset_event("DS2", event_id="e2")])

    assert [r["status"] for r in response.json["results"]] == ["duplicate", "accepted"]
    db.session.expire_all()
    assert db.session.get(Dataset, "DS1").title == "Dataset DS1"
    assert stored_events(db) == 2


def test_text_arrives_exactly_as_sent_whatever_it_holds(client, db, publisher_key):
    """Characters that mean something to COPY's text format (the inbox's intake on
    PostgreSQL) or to JSON arrive unchanged, in the inbox and in the catalog."""
    title = 'back\\slash \\N tab\t new\nline cr\r "quoted" \\. é 🧬'
    sent = dataset_event("DS1", event_id="e-text")
    sent["payload"]["title"] = title
    sent["payload"]["description"] = "\\.\n\\.\t\\\\"

    response = publish(client, publisher_key, sent)

    assert response.status_code == 202
    db.session.expire_all()
    assert db.session.get(Dataset, "DS1").title == title
    assert db.session.scalars(select(InboxEvent)).one().payload == sent["payload"]


def test_every_topic_is_applied(client, db, publisher_key):
    box = upload_box_payload()
    file_id = uuid4()
    batch = [
        dataset_event("DS1", files=1),
        box_event(box),
        accession_map_event("GHGAFDS10000", file_id),
    ]

    publish(client, publisher_key, batch)

    assert db.session.get(Dataset, "DS1") is not None
    assert str(db.session.get(UploadBox, box["id"]).file_upload_box_id) == box["file_upload_box_id"]
    assert db.session.get(AccessionMap, "GHGAFDS10000").file_id == file_id


def test_deletions_are_applied_and_idempotent(client, db, publisher_key):
    box = upload_box_payload()
    publish(
        client, publisher_key, [dataset_event("DS1"), box_event(box), accession_map_event("GHGAF1")]
    )

    response = publish(
        client,
        publisher_key,
        [
            dataset_deleted_event("DS1"),
            dataset_deleted_event("DS1"),
            event("upload-boxes", "deleted", box["id"], {}),
            event("file-accession-mappings", "deleted", "GHGAF1", {}),
        ],
    )

    assert response.status_code == 202
    db.session.expire_all()
    assert db.session.get(Dataset, "DS1") is None
    assert db.session.get(UploadBox, box["id"]) is None
    assert db.session.get(AccessionMap, "GHGAF1") is None
    assert {e.status for e in db.session.scalars(select(InboxEvent))} == {"applied"}


def test_an_older_box_version_is_skipped(client, db, publisher_key):
    newer = upload_box_payload(version=3, title="Newer")
    older = dict(newer, version=2, title="Older")

    publish(client, publisher_key, box_event(newer, event_id="v3"))
    publish(client, publisher_key, box_event(older, event_id="v2"))

    db.session.expire_all()
    assert db.session.get(UploadBox, newer["id"]).title == "Newer"
    statuses = dict(db.session.execute(select(InboxEvent.event_id, InboxEvent.status)).all())
    assert statuses == {"v3": "applied", "v2": "skipped"}


def test_an_older_sequence_is_skipped(client, db, publisher_key):
    late = dataset_event("DS1", event_id="s5", sequence=5)
    early = dataset_event("DS1", event_id="s3", sequence=3)
    early["payload"]["title"] = "Stale title"

    publish(client, publisher_key, [late, early])

    db.session.expire_all()
    assert db.session.get(Dataset, "DS1").title == "Dataset DS1"
    statuses = dict(db.session.execute(select(InboxEvent.event_id, InboxEvent.status)).all())
    assert statuses == {"s5": "applied", "s3": "skipped"}


def test_a_dataset_deleted_by_event_stops_new_work_order_tokens(
    client, db, researcher, publisher_key
):
    create_dataset("DS1", files=1)
    grant(researcher.id, dataset="DS1")
    created = client.post(
        "/work-packages",
        json={
            "type": "download",
            "dataset_id": "DS1",
            "user_public_crypt4gh_key": researcher.public_key,
        },
        headers=researcher.headers(),
    ).json
    wpat = {"Authorization": f"Bearer {researcher.open_sealed(created['token'])}"}
    url = f"/work-packages/{created['id']}/files/GHGAFDS10000/work-order-tokens"
    assert client.post(url, headers=wpat).status_code == 201

    publish(client, publisher_key, dataset_deleted_event("DS1"))

    response = client.post(url, headers=wpat)
    assert response.status_code == 403
    assert response.json == {
        "detail": "The dataset of this work package has been removed",
        "code": "target_removed",
    }


@pytest.mark.parametrize(
    ("mutate", "where", "message_part"),
    [
        (lambda e: e.update(topic="nope"), ["body", 1, "type"], "unknown topic and type"),
        (lambda e: e.update(type="dataset_renamed"), ["body", 1, "type"], "unknown topic"),
        (
            lambda e: e["payload"]["files"][0].update(accession="XYZ1"),
            ["body", 1, "payload", "files", 0, "accession"],
            "should match pattern",
        ),
        (lambda e: e.pop("event_id"), ["body", 1, "event_id"], "Field required"),
        (lambda e: e.update(key="DS9"), ["body", 1, "key"], "key must equal payload.accession"),
        (lambda e: e.update(extra=True), ["body", 1, "extra"], "Extra inputs"),
    ],
)
def test_one_invalid_event_rejects_the_whole_batch(
    client, db, publisher_key, mutate, where, message_part
):
    bad = dataset_event("DS2", event_id="bad-one")
    mutate(bad)

    response = publish(client, publisher_key, [dataset_event("DS1"), bad])

    assert response.status_code == 422
    errors = response.json["detail"]
    assert where in [e["loc"] for e in errors], errors
    assert any(message_part in e["msg"] for e in errors)
    assert stored_events(db) == 0
    assert db.session.scalar(select(func.count()).select_from(Dataset)) == 0


def test_invalid_event_errors_name_the_event(client, db, publisher_key):
    bad = dataset_event("DS2", event_id="the-bad-one")
    bad["payload"]["files"][0]["accession"] = "XYZ"

    response = publish(client, publisher_key, [dataset_event("DS1"), bad])

    assert "event the-bad-one" in response.json["detail"][0]["msg"]


def test_non_json_and_empty_bodies_are_422(client, db, publisher_key):
    for data in (b"not json", b"", b"[]x"):
        response = client.post("/events", data=data, headers=publisher_key)
        assert response.status_code == 422
    assert stored_events(db) == 0


HOSTILE_EVENTS = hostile_documents(dataset_event("DS1", event_id="e-hostile"), "key")


@pytest.mark.parametrize(("name", "body"), HOSTILE_EVENTS, ids=[n for n, _ in HOSTILE_EVENTS])
def test_a_hostile_body_is_refused_with_a_4xx_and_nothing_stored(
    client, db, publisher_key, name, body
):
    response = client.post(
        "/events", data=body, content_type="application/json", headers=publisher_key
    )

    assert 400 <= response.status_code < 500, (name, response.status_code, response.json)
    assert {"detail", "code"} <= set(response.json)
    assert stored_events(db) == 0
    assert db.session.get(Dataset, "DS1") is None


def test_too_many_events_is_413(client, db, publisher_key, app):
    limit = app.extensions["settings"].events_max_batch
    batch = [accession_map_event(f"GHGAF{n}") for n in range(limit + 1)]

    response = publish(client, publisher_key, batch)

    assert response.status_code == 413
    assert response.json["code"] == "too_many_events"
    assert stored_events(db) == 0


def test_body_over_the_events_limit_is_413(db, instance_path):
    app = create_app(make_settings(instance_path, events_max_body_bytes=2000))
    client = app.test_client()
    key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}

    response = client.post("/events", json=dataset_event("DS1", files=50), headers=key)

    assert response.status_code == 413
    assert stored_events(db) == 0


def test_events_may_exceed_the_general_body_limit(client, db, publisher_key, app):
    files = app.config["MAX_CONTENT_LENGTH"] // 60
    body = dataset_event("BIG", files=files)

    response = publish(client, publisher_key, body)

    assert response.status_code == 202
    assert len(db.session.get(Dataset, "BIG").files) == files


@pytest.mark.parametrize(("permissions", "status"), [(None, 401), (("DATA_STEWARD",), 403)])
def test_publishing_needs_the_feed_permission(client, db, permissions, status):
    headers = {}
    if permissions:
        headers = {"Workflow-API-Key": ApplicationKeyFactory(permissions=permissions).key}

    response = publish(client, headers, dataset_event("DS1"))

    assert response.status_code == status
    assert stored_events(db) == 0


@pytest.fixture
def strict_client(db, instance_path):
    """One attempt per event: a failure is dead at once (eager mode does not wait)."""
    app = create_app(make_settings(instance_path, event_max_attempts=1))
    return app.test_client()


def test_poison_event_dies_holds_its_key_and_replays_after_a_fix(strict_client, db, steward_key):
    client = strict_client
    publisher = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}
    shared = str(uuid4())
    first, second = (
        upload_box_payload(file_upload_box_id=shared),
        upload_box_payload(file_upload_box_id=shared),
    )
    publish(client, publisher, box_event(first, event_id="owner"))

    publish(client, publisher, box_event(second, event_id="poison"))
    publish(client, publisher, box_event(dict(second, version=1), event_id="after-poison"))
    publish(client, publisher, dataset_event("OTHER", event_id="other-key"))

    dead = client.get("/events?status=dead", headers=steward_key).json
    assert [e["event_id"] for e in dead["items"]] == ["poison"]
    assert (
        "file_upload_box_taken" in dead["items"][0]["last_error"]
        or "belongs to" in dead["items"][0]["last_error"]
    )
    held = client.get("/events/after-poison", headers=steward_key).json
    assert held["status"] == "pending"
    assert client.get("/events/other-key", headers=steward_key).json["status"] == "applied"

    client.delete(f"/upload-boxes/{first['id']}", headers=steward_key)
    replayed = client.post("/events/poison/replay", headers=steward_key)

    assert replayed.status_code == 200
    assert client.get("/events/poison", headers=steward_key).json["status"] == "applied"
    assert client.get("/events/after-poison", headers=steward_key).json["status"] == "applied"
    db.session.expire_all()
    assert db.session.get(UploadBox, second["id"]).version == 1


def test_discarding_a_dead_event_releases_its_key(strict_client, db, steward_key):
    client = strict_client
    publisher = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}
    shared = str(uuid4())
    first, second = (
        upload_box_payload(file_upload_box_id=shared),
        upload_box_payload(file_upload_box_id=shared),
    )
    publish(client, publisher, [box_event(first), box_event(second, event_id="poison")])
    fixed = dict(second, version=1, file_upload_box_id=str(uuid4()))
    publish(client, publisher, box_event(fixed, event_id="fixed"))

    discarded = client.post("/events/poison/discard", headers=steward_key)

    assert discarded.json["status"] == "discarded"
    assert client.get("/events/fixed", headers=steward_key).json["status"] == "applied"


def test_only_dead_events_can_be_replayed_or_discarded(client, db, publisher_key, steward_key):
    publish(client, publisher_key, dataset_event("DS1", event_id="fine"))

    replay = client.post("/events/fine/replay", headers=steward_key)
    discard = client.post("/events/fine/discard", headers=steward_key)
    unknown = client.post("/events/nope/replay", headers=steward_key)

    assert (replay.status_code, discard.status_code, unknown.status_code) == (409, 409, 404)
    assert replay.json["code"] == "event_not_dead"


def test_event_listing_filters(client, db, publisher_key, steward_key):
    publish(client, publisher_key, [dataset_event("DS1"), accession_map_event("GHGAF1")])

    by_topic = client.get("/events?topic=metadata-datasets", headers=steward_key).json
    by_status = client.get("/events?status=applied&limit=1", headers=steward_key).json
    bad_status = client.get("/events?status=exploded", headers=steward_key)

    assert [e["key"] for e in by_topic["items"]] == ["DS1"]
    assert by_status["total_count"] == 2 and len(by_status["items"]) == 1
    assert bad_status.status_code == 422


def test_sweep_deletes_exactly_the_packages_past_retention(client, db, researcher, app):
    from app.tasks.work_packages import sweep_expired_work_packages

    create_dataset("DS1", files=1)
    grant(researcher.id, dataset="DS1")
    body = {
        "type": "download",
        "dataset_id": "DS1",
        "user_public_crypt4gh_key": researcher.public_key,
    }
    ids = [
        client.post("/work-packages", json=body, headers=researcher.headers()).json["id"]
        for _ in range(3)
    ]
    retention = timedelta(days=app.extensions["settings"].work_package_retention_days)
    now = datetime.now(UTC)
    ages = {ids[0]: retention + timedelta(hours=1), ids[1]: retention - timedelta(hours=1)}
    for package in db.session.scalars(select(WorkPackage)):
        if str(package.id) in ages:
            package.expires = now - ages[str(package.id)]
    db.session.commit()

    swept = sweep_expired_work_packages.delay().get()

    db.session.expire_all()
    assert swept == 1
    assert {str(p.id) for p in db.session.scalars(select(WorkPackage))} == {ids[1], ids[2]}


def test_purge_removes_only_old_finished_events(client, db, publisher_key):
    from app.tasks.feeds import purge_finished

    publish(
        client,
        publisher_key,
        [dataset_event("DS1", event_id="old"), dataset_event("DS2", event_id="new")],
    )
    old = db.session.scalars(select(InboxEvent).where(InboxEvent.event_id == "old")).one()
    old.finished_at = datetime.now(UTC) - timedelta(days=30)
    db.session.commit()

    assert purge_finished.delay().get() == 1
    db.session.expire_all()
    assert [e.event_id for e in db.session.scalars(select(InboxEvent))] == ["new"]
