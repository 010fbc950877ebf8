"""A researcher's journey: grant -> work package -> work order tokens, as the connector sees it."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.access.models import AccessGrant
from app.catalog.models import AccessionMap
from app.work_packages.models import WorkPackage, WorkPackageFile
from tests.support.factories import create_dataset, create_upload_box, grant
from tests.support.users import verify_work_order_token


def create_package(client, researcher, **body):
    payload = {"type": "download", "user_public_crypt4gh_key": researcher.public_key} | body
    return client.post("/work-packages", json=payload, headers=researcher.headers())


def wpat_headers(researcher, created) -> dict:
    return {"Authorization": f"Bearer {researcher.open_sealed(created['token'])}"}


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def download_package(client, db, researcher):
    create_dataset("DS1", files=3)
    grant(researcher.id, dataset="DS1")
    response = create_package(client, researcher, dataset_id="DS1")
    assert response.status_code == 201
    return response.json


def test_creation_returns_a_token_only_the_user_can_open(client, researcher, download_package):
    sealed = download_package["token"]

    assert len(sealed) == 96
    token = researcher.open_sealed(sealed)
    assert len(token) == 24 and token.isalnum()
    expires = datetime.fromisoformat(download_package["expires"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)


def test_only_the_hash_of_the_access_token_is_stored(db, researcher, download_package):
    token = researcher.open_sealed(download_package["token"])

    row = db.session.scalars(select(WorkPackage)).one()

    assert token not in " ".join(str(v) for v in vars(row).values())
    assert len(row.token_hash) == 64


def test_details_list_the_files_with_extensions(client, researcher, download_package):
    response = client.get(
        f"/work-packages/{download_package['id']}",
        headers=wpat_headers(researcher, download_package),
    )

    assert response.status_code == 200
    assert response.json["type"] == "download"
    assert response.json["files"] == {
        "GHGAFDS10000": ".bam",
        "GHGAFDS10001": ".fastq.gz",
        "GHGAFDS10002": ".bam",
    }
    assert response.json["research_data_upload_box_id"] is None


def test_download_work_order_token_is_signed_sealed_and_cacheable(
    client, db, researcher, download_package
):
    url = f"/work-packages/{download_package['id']}/files/GHGAFDS10001/work-order-tokens"

    response = client.post(url, headers=wpat_headers(researcher, download_package))

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "max-age=30, private"
    jwks = client.get("/.well-known/jwks.json").json
    claims = verify_work_order_token(researcher.open_sealed(response.json), jwks)
    file_id = db.session.get(AccessionMap, "GHGAFDS10001").file_id
    assert claims.pop("exp") - claims.pop("iat") == 30
    assert claims == {
        "work_type": "download",
        "file_id": str(file_id),
        "accession": "GHGAFDS10001",
        "user_public_crypt4gh_key": researcher.public_key,
    }


def test_file_ids_choose_files_and_unknown_ones_are_dropped(client, db, researcher):
    create_dataset("DS2", files=3)
    grant(researcher.id, dataset="DS2")

    response = create_package(
        client, researcher, dataset_id="DS2", file_ids=["GHGAFDS20002", "GHGAFnope"]
    )

    details = client.get(
        f"/work-packages/{response.json['id']}", headers=wpat_headers(researcher, response.json)
    )
    assert details.json["files"] == {"GHGAFDS20002": ".bam"}


def test_expiry_is_capped_by_the_grant(client, db, researcher):
    create_dataset("DS3")
    grant(researcher.id, dataset="DS3", days=2)

    response = create_package(client, researcher, dataset_id="DS3")

    expires = datetime.fromisoformat(response.json["expires"])
    assert expires - datetime.now(UTC) < timedelta(days=2)


def test_pem_wrapped_public_key_is_accepted(client, db, researcher):
    create_dataset("DS4")
    grant(researcher.id, dataset="DS4")
    pem = (
        "-----BEGIN CRYPT4GH PUBLIC KEY-----\n"
        f"{researcher.public_key}\n-----END CRYPT4GH PUBLIC KEY-----\n"
    )

    response = create_package(client, researcher, dataset_id="DS4", user_public_crypt4gh_key=pem)

    assert response.status_code == 201
    assert len(researcher.open_sealed(response.json["token"])) == 24


@pytest.fixture
def upload_package(client, db, researcher):
    box = create_upload_box()
    grant(researcher.id, box=box.id)
    response = create_package(
        client, researcher, type="upload", research_data_upload_box_id=str(box.id)
    )
    assert response.status_code == 201
    return box, response.json


def test_upload_package_details_name_both_boxes(client, researcher, upload_package):
    box, created = upload_package

    details = client.get(
        f"/work-packages/{created['id']}", headers=wpat_headers(researcher, created)
    )

    assert details.json["type"] == "upload"
    assert details.json["files"] == {}
    assert details.json["research_data_upload_box_id"] == str(box.id)
    assert details.json["file_upload_box_id"] == str(box.file_upload_box_id)


@pytest.mark.parametrize(
    ("body", "expected_claims"),
    [
        ({"work_type": "create", "alias": "reads.fastq"}, {"alias": "reads.fastq"}),
        ({"work_type": "upload", "file_id": "FILE"}, {"file_id": "FILE"}),
        ({"work_type": "close", "file_id": "FILE"}, {"file_id": "FILE"}),
        ({"work_type": "delete", "file_id": "FILE"}, {"file_id": "FILE"}),
        ({"work_type": "view"}, {}),
    ],
)
def test_each_upload_work_order_kind_has_its_exact_claims(
    client, researcher, upload_package, body, expected_claims
):
    box, created = upload_package
    file_id = "9d3e3ba7-6bb4-4e4a-8d4b-1b0c1c7a6f10"
    body = {k: (file_id if v == "FILE" else v) for k, v in body.items()}
    expected_claims = {k: (file_id if v == "FILE" else v) for k, v in expected_claims.items()}

    response = client.post(
        f"/work-packages/{created['id']}/boxes/{box.id}/work-order-tokens",
        json=body,
        headers=wpat_headers(researcher, created),
    )

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "max-age=30, private"
    jwks = client.get("/.well-known/jwks.json").json
    claims = verify_work_order_token(researcher.open_sealed(response.json), jwks)
    del claims["iat"], claims["exp"]
    assert (
        claims
        == {
            "work_type": body["work_type"],
            "box_id": str(box.file_upload_box_id),
            "user_public_crypt4gh_key": researcher.public_key,
        }
        | expected_claims
    )


def test_users_see_their_datasets_and_boxes_with_expiry(client, db, researcher):
    create_dataset("DS5", files=1)
    box = create_upload_box(title="Box A")
    grant(researcher.id, dataset="DS5", days=10)
    grant(researcher.id, box=box.id, days=5)

    datasets = client.get(f"/users/{researcher.id}/datasets", headers=researcher.headers())
    boxes = client.get(f"/users/{researcher.id}/boxes", headers=researcher.headers())

    assert [d["id"] for d in datasets.json] == ["DS5"]
    assert datasets.json[0]["files"] == [{"accession": "GHGAFDS50000", "extension": ".bam"}]
    assert [b["id"] for b in boxes.json] == [str(box.id)]
    assert boxes.json[0]["file_upload_box_id"] == str(box.file_upload_box_id)


def test_other_users_listings_are_forbidden(client, researcher):
    from uuid import uuid4

    response = client.get(f"/users/{uuid4()}/datasets", headers=researcher.headers())

    assert response.status_code == 403
    assert response.json["code"] == "other_user"


def test_work_order_token_costs_one_statement(db, instance_path, researcher, download_package):
    """Package, grant and file come in one round trip, as the trace shows."""
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from app import create_app
    from tests.conftest import make_settings

    spans = InMemorySpanExporter()
    traced = create_app(
        make_settings(instance_path, enable_opentelemetry=True, otel_trace_sampling_rate=1.0),
        span_exporter=spans,
    ).test_client()
    url = f"/work-packages/{download_package['id']}/files/GHGAFDS10000/work-order-tokens"
    headers = wpat_headers(researcher, download_package)
    try:
        traced.post(url, headers=headers)  # statements are prepared once per connection
        spans.clear()

        response = traced.post(url, headers=headers)
    finally:
        # The instrumentations are process-wide: leave none behind for other tests.
        SQLAlchemyInstrumentor().uninstrument()
        CeleryInstrumentor().uninstrument()

    assert response.status_code == 201
    finished = spans.get_finished_spans()
    server = [s for s in finished if s.kind.name == "SERVER"]
    statements = [s for s in finished if s.attributes.get("db.system") == "postgresql"]
    assert [s.name for s in server] == [
        "POST /work-packages/<work_package_id>/files/<accession>/work-order-tokens"
    ]
    assert len(statements) == 1
    assert statements[0].context.trace_id == server[0].context.trace_id


def test_grant_is_rechecked_on_every_use(client, db, researcher, download_package):
    headers = wpat_headers(researcher, download_package)
    for row in db.session.scalars(select(AccessGrant)):
        row.revoked_at = datetime.now(UTC)
    db.session.commit()

    details = client.get(f"/work-packages/{download_package['id']}", headers=headers)
    token = client.post(
        f"/work-packages/{download_package['id']}/files/GHGAFDS10000/work-order-tokens",
        headers=headers,
    )

    for response in (details, token):
        assert response.status_code == 403
        assert response.json == {
            "detail": "Download access has been revoked",
            "code": "access_revoked",
        }


def test_deleted_dataset_stops_its_packages(client, db, researcher, download_package, steward_key):
    client.delete("/datasets/DS1", headers=steward_key)

    response = client.post(
        f"/work-packages/{download_package['id']}/files/GHGAFDS10000/work-order-tokens",
        headers=wpat_headers(researcher, download_package),
    )

    assert response.status_code == 403
    assert response.json["code"] == "target_removed"


def test_unmapped_file_is_not_available(client, db, researcher):
    create_dataset("DS6", files=1, mapped=False)
    grant(researcher.id, dataset="DS6")
    created = create_package(client, researcher, dataset_id="DS6").json

    response = client.post(
        f"/work-packages/{created['id']}/files/GHGAFDS60000/work-order-tokens",
        headers=wpat_headers(researcher, created),
    )

    assert response.status_code == 403
    assert response.json == {
        "detail": "File not available for download",
        "code": "file_not_available",
    }


def test_expired_package_is_refused(client, db, researcher, download_package):
    package = db.session.scalars(select(WorkPackage)).one()
    package.expires = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()

    response = client.get(
        f"/work-packages/{download_package['id']}",
        headers=wpat_headers(researcher, download_package),
    )

    assert response.status_code == 403
    assert response.json == {"detail": "Work package has expired", "code": "work_package_expired"}


def test_sealed_token_is_standard_base64(download_package):
    assert base64.b64decode(download_package["token"], validate=True)


def test_package_files_are_stored_once_per_file(db, download_package):
    assert count(db, WorkPackageFile) == 3
