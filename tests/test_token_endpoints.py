"""The lean token endpoints in front of Flask: what a client and an operator see."""

import logging

import pytest
from werkzeug.test import Client

from app import create_app
from tests.conftest import make_settings
from tests.support.factories import create_dataset, create_upload_box, grant
from tests.support.live_service import free_port


@pytest.fixture
def packages(client, db, researcher):
    create_dataset("DS1", files=2)
    box = create_upload_box()
    grant(researcher.id, dataset="DS1")
    grant(researcher.id, box=box.id)
    made = {}
    for kind, target in (("download", {"dataset_id": "DS1"}), ("upload", {})):
        if kind == "upload":
            target = {"research_data_upload_box_id": str(box.id)}
        body = {"type": kind, "user_public_crypt4gh_key": researcher.public_key} | target
        created = client.post("/work-packages", json=body, headers=researcher.headers()).json
        wpat = {"Authorization": f"Bearer {researcher.open_sealed(created['token'])}"}
        made[kind] = (created["id"], wpat)
    made["box"] = box.id
    return made


def download_url(packages, accession="GHGAFDS10001") -> str:
    return f"/work-packages/{packages['download'][0]}/files/{accession}/work-order-tokens"


def upload_url(packages) -> str:
    return f"/work-packages/{packages['upload'][0]}/boxes/{packages['box']}/work-order-tokens"


REQUESTS = [
    ("a token", lambda p: (download_url(p), p["download"][1], None)),
    ("no credential", lambda p: (download_url(p), {}, None)),
    ("another scheme", lambda p: (download_url(p), {"Authorization": "Basic eDp5"}, None)),
    ("a wrong token", lambda p: (download_url(p), {"Authorization": "Bearer " + "A" * 24}, None)),
    ("a malformed package id", lambda p: ("/work-packages/42/files/GHGAF1/work-order-tokens",
                                          p["download"][1], None)),
    ("a malformed accession", lambda p: (download_url(p, "bad"), p["download"][1], None)),
    ("a file not in the package", lambda p: (download_url(p, "GHGAFX1"), p["download"][1], None)),
    ("an upload token", lambda p: (upload_url(p), p["upload"][1], {"work_type": "view"})),
    ("an upload token without body", lambda p: (upload_url(p), p["upload"][1], None)),
    ("a body that is not JSON", lambda p: (upload_url(p), p["upload"][1], "{broken")),
    ("a download package's box", lambda p: (
        upload_url(p).replace(p["upload"][0], p["download"][0]), p["download"][1],
        {"work_type": "view"})),
]  # fmt: skip


@pytest.mark.parametrize("make_request", [r[1] for r in REQUESTS], ids=[r[0] for r in REQUESTS])
def test_answers_are_those_of_the_flask_routes_behind(app, packages, make_request):
    path, headers, body = make_request(packages)
    headers = headers | {"X-Request-Id": "same-id-for-both"}
    kwargs = {"json": body} if isinstance(body, dict) else {"data": body or b""}
    lean = Client(app.wsgi_app).post(path, headers=headers, **kwargs)
    flask = Client(app.wsgi_app.behind).post(path, headers=headers, **kwargs)

    assert lean.status == flask.status
    assert dict(lean.headers) | {"Content-Length": "-"} == dict(flask.headers) | {
        "Content-Length": "-"
    }
    if lean.status_code == 201:  # every token is freshly signed and sealed
        assert len(lean.get_data()) == len(flask.get_data())
    else:
        assert lean.get_data() == flask.get_data()


def test_one_access_line_per_token_with_the_request_id_and_no_secret(client, packages, caplog):
    _, wpat = packages["download"]
    with caplog.at_level(logging.INFO, logger="wps.access"):
        response = client.post(download_url(packages), headers=wpat | {"X-Request-Id": "abc-123"})

    lines = [r for r in caplog.records if r.name == "wps.access"]
    assert response.headers["X-Request-Id"] == "abc-123"
    assert len(lines) == 1
    assert lines[0].request_id == "abc-123"
    assert lines[0].status == 201 and lines[0].path == download_url(packages)
    assert wpat["Authorization"][7:] not in caplog.text
    assert response.json not in caplog.text


def test_a_malformed_request_id_is_replaced(client, packages):
    response = client.post(
        download_url(packages), headers=packages["download"][1] | {"X-Request-Id": "bad id!"}
    )

    assert response.status_code == 201
    assert len(response.headers["X-Request-Id"]) == 32


def test_cors_headers_for_configured_origins_only(db, instance_path, packages):
    app = create_app(make_settings(instance_path, cors_allowed_origins=["https://portal.example"]))
    client = app.test_client()
    headers = packages["download"][1]

    allowed = client.post(
        download_url(packages), headers=headers | {"Origin": "https://portal.example"}
    )
    foreign = client.post(
        download_url(packages), headers=headers | {"Origin": "https://evil.example"}
    )

    assert allowed.status_code == foreign.status_code == 201
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://portal.example"
    assert "X-Request-Id" in allowed.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_an_oversized_body_is_refused_before_the_credential(client, app, packages):
    limit = app.config["MAX_CONTENT_LENGTH"]

    response = client.post(upload_url(packages), data=b"x" * (limit + 1))

    assert response.status_code == 413
    assert response.json["code"] == "request_entity_too_large"


def test_a_dropped_connection_is_replaced_without_an_error(client, db, packages):
    from tests.test_faults import _terminate_other_connections

    assert client.post(download_url(packages), headers=packages["download"][1]).status_code == 201
    assert _terminate_other_connections() >= 1
    db.session.remove()
    db.engine.dispose()  # the pool's connections died too; this test is not about them

    response = client.post(download_url(packages), headers=packages["download"][1])

    assert response.status_code == 201


def test_database_down_is_503(instance_path, packages):
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    client = create_app(
        make_settings(instance_path, sqlalchemy_database_uri=unreachable)
    ).test_client()

    response = client.post(download_url(packages), headers=packages["download"][1])

    assert response.status_code == 503
    assert response.json == {
        "detail": "The database is unavailable; retry later",
        "code": "database_unavailable",
    }
