"""The embedded default (SQLite, eager tasks) serves the whole token journey too."""

from flask_migrate import upgrade
from sqlalchemy import func

from app import create_app
from app.extensions import db
from tests.conftest import make_settings
from tests.support.factories import create_dataset, grant
from tests.support.users import Researcher, verify_work_order_token


def test_work_order_token_on_sqlite(tmp_path):
    app = create_app(
        make_settings(
            tmp_path,
            sqlalchemy_database_uri=f"sqlite:///{tmp_path / 'wps.sqlite'}",
            celery_broker_url=None,
            celery_always_eager=None,
        )
    )
    researcher = Researcher(app)
    with app.app_context():
        upgrade()
        create_dataset("DS1", files=2)
        grant(researcher.id, dataset="DS1")
        client = app.test_client()
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

        details = client.get(f"/work-packages/{created['id']}", headers=wpat)
        token = client.post(
            f"/work-packages/{created['id']}/files/GHGAFDS10001/work-order-tokens", headers=wpat
        )
        db.session.remove()

    assert app.extensions["celery"].conf.task_always_eager is True
    assert details.status_code == 200
    assert details.json["files"] == {"GHGAFDS10000": ".bam", "GHGAFDS10001": ".fastq.gz"}
    assert token.status_code == 201
    claims = verify_work_order_token(
        researcher.open_sealed(token.json), client.get("/.well-known/jwks.json").json
    )
    assert claims["accession"] == "GHGAFDS10001"


def test_a_batch_of_events_is_applied_on_sqlite(tmp_path):
    """The set-based apply (ADR 27) on SQLite with eager tasks: every upsert and deletion
    type, a repeated key, a duplicate, and a poison event that stops only its key."""
    from uuid import UUID, uuid4

    from sqlalchemy import select

    from app.catalog.models import AccessionMap, Dataset, UploadBox
    from app.feeds.models import InboxEvent
    from tests.support.factories import (
        ApplicationKeyFactory,
        accession_map_event,
        box_event,
        dataset_deleted_event,
        dataset_event,
        upload_box_payload,
    )

    app = create_app(
        make_settings(
            tmp_path,
            sqlalchemy_database_uri=f"sqlite:///{tmp_path / 'wps.sqlite'}",
            celery_broker_url=None,
            celery_always_eager=None,
            event_max_attempts=1,
        )
    )
    with app.app_context():
        upgrade()
        headers = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}
        shared = str(uuid4())
        owner = upload_box_payload(file_upload_box_id=shared)
        poison = upload_box_payload(file_upload_box_id=shared)
        file_id = uuid4()
        batch = [dataset_event(f"SQ{n:03d}", files=2, event_id=f"sq-{n}") for n in range(300)]
        batch += [
            box_event(owner, event_id="owner"),
            box_event(poison, event_id="poison"),
            dataset_event("SQ000", files=1, event_id="sq-again") | {"key": "SQ000"},
            dataset_deleted_event("SQ001", event_id="sq-gone"),
            accession_map_event("GHGAFSQ0000000", file_id, event_id="map"),
        ]
        client = app.test_client()
        first = client.post("/events", json=batch, headers=headers)
        again = client.post("/events", json=batch[:2], headers=headers)

        statuses = dict(db.session.execute(select(InboxEvent.event_id, InboxEvent.status)).all())
        datasets = db.session.scalar(select(func.count()).select_from(Dataset))
        files_of_sq000 = len(db.session.get(Dataset, "SQ000").files)
        box_stored = db.session.get(UploadBox, UUID(poison["id"])) is not None
        mapped = db.session.get(AccessionMap, "GHGAFSQ0000000").file_id
        db.session.remove()

    assert first.status_code == 202
    assert {r["status"] for r in again.json["results"]} == {"duplicate"}
    assert statuses.pop("poison") == "dead"
    assert set(statuses.values()) == {"applied"}
    assert datasets == 299  # SQ001 deleted
    assert files_of_sq000 == 1  # the later event of the key replaced the file list
    assert box_stored is False
    assert mapped == file_id
