"""GA4GH DRS 1.5 at /ga4gh/drs/v1 with a person's bearer token (ADR 28)."""

import io

import crypt4gh.lib
import pytest

from app.access.services import revoke_grant
from app.extensions import db
from tests.support.drs_world import account_for, sha256, stored_dataset
from tests.support.factories import grant
from tests.support.users import Researcher

DRS = "/ga4gh/drs/v1"


@pytest.fixture
def world(db, app):
    researcher = Researcher(app)
    account_for(researcher)
    files, contents = stored_dataset("DS1")
    return researcher, files, contents


def ready_object(client, path, headers, **kwargs):
    """GET (or POST) until the stream is prepared: the first answer is 202."""
    first = client.get(path, headers=headers) if not kwargs else client.post(path, **kwargs)
    if first.status_code != 202:
        return first
    assert first.headers["Retry-After"] == "5"
    return client.get(path, headers=headers) if not kwargs else client.post(path, **kwargs)


def decrypt(researcher: Researcher, stream: bytes) -> bytes:
    out = io.BytesIO()
    crypt4gh.lib.decrypt([(0, bytes(researcher.crypt4gh), None)], io.BytesIO(stream), out)
    return out.getvalue()


def test_service_info_names_drs_the_bulk_limit_and_the_catalog(client, world, app):
    info = client.get(f"{DRS}/service-info").json

    assert info["type"] == {"group": "org.ga4gh", "artifact": "drs", "version": "1.5.0"}
    assert info["drs"]["maxBulkRequestLength"] == 100
    assert info["drs"]["objectCount"] == 3  # two files and their dataset
    assert info["drs"]["totalObjectSize"] > 2 * 160_000
    assert info["organization"]["name"]


def test_a_granted_file_is_an_object_whose_stream_decrypts_to_the_file(client, world):
    researcher, files, contents = world
    grant(researcher.id, dataset="DS1")
    headers = researcher.headers()

    first = client.get(f"{DRS}/objects/{files[0]}", headers=headers)
    assert first.status_code == 202 and first.headers["Retry-After"] == "5"
    found = client.get(f"{DRS}/objects/{files[0]}", headers=headers)
    assert found.status_code == 200, found.json
    drs_object = found.json
    assert drs_object["id"] == files[0]
    assert drs_object["self_uri"] == f"drs://127.0.0.1:5000/{files[0]}"
    assert drs_object["aliases"] == ["DS1"]
    assert drs_object["access_methods"] == [{"type": "https", "access_id": "c4gh", "region": ""}]

    access = client.get(f"{DRS}/objects/{files[0]}/access/c4gh", headers=headers)
    assert access.status_code == 200, access.json
    url = access.json["url"].split("127.0.0.1:5000", 1)[1]
    stream = client.get(url)
    assert stream.status_code == 200
    assert stream.headers["Cache-Control"] == "no-store"
    assert len(stream.data) == drs_object["size"]
    assert sha256(stream.data) == drs_object["checksums"][0]["checksum"]
    assert drs_object["checksums"][0]["type"] == "sha-256"
    assert decrypt(researcher, stream.data) == contents[files[0]]


def test_a_dataset_is_a_bundle_of_its_files(client, world):
    researcher, files, _ = world
    grant(researcher.id, dataset="DS1")
    headers = researcher.headers()

    bundle = ready_object(client, f"{DRS}/objects/DS1", headers).json
    blobs = [client.get(f"{DRS}/objects/{f}", headers=headers).json for f in files]

    assert [c["id"] for c in bundle["contents"]] == files
    assert bundle["contents"][0]["drs_uri"] == [f"drs://127.0.0.1:5000/{files[0]}"]
    assert bundle["size"] == sum(b["size"] for b in blobs)
    checksums = sorted(b["checksums"][0]["checksum"] for b in blobs)
    assert bundle["checksums"][0]["checksum"] == sha256("".join(checksums).encode())
    assert "access_methods" not in bundle or bundle["access_methods"] is None


def test_without_a_grant_403_and_a_revoked_grant_stops_the_next_access_url(client, world):
    researcher, files, _ = world
    headers = researcher.headers()
    refused = client.get(f"{DRS}/objects/{files[0]}", headers=headers)
    assert refused.status_code == 403
    assert refused.json == {"msg": "You have no current download grant for DS1", "status_code": 403}

    granted = grant(researcher.id, dataset="DS1")
    assert ready_object(client, f"{DRS}/objects/{files[0]}", headers).status_code == 200
    assert client.get(f"{DRS}/objects/{files[0]}/access/c4gh", headers=headers).status_code == 200
    revoke_grant(granted.id)
    db.session.commit()

    after = client.get(f"{DRS}/objects/{files[0]}/access/c4gh", headers=headers)
    assert after.status_code == 403
    assert after.json["status_code"] == 403


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer nonsense"}, 401)],
)
def test_no_or_a_bad_token_is_401_in_drs_shape(client, world, headers, status):
    _, files, _ = world
    answer = client.get(f"{DRS}/objects/{files[0]}", headers=headers)
    assert answer.status_code == status
    assert set(answer.json) == {"msg", "status_code"}
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_token_made_before_the_second_factor_is_refused(client, world, app):
    researcher, files, _ = world
    grant(researcher.id, dataset="DS1")
    researcher.second_factor = False
    answer = client.get(f"{DRS}/objects/{files[0]}", headers=researcher.headers())
    assert answer.status_code == 403
    assert "second factor" in answer.json["msg"]


def test_no_crypt4gh_key_on_the_profile_is_409(client, db, app):
    researcher = Researcher(app)
    account_for(researcher, key=False)
    files, _ = stored_dataset("DS2", files=1)
    grant(researcher.id, dataset="DS2")
    answer = client.get(f"{DRS}/objects/{files[0]}", headers=researcher.headers())
    assert answer.status_code == 409
    assert "Crypt4GH public key" in answer.json["msg"]


def test_unknown_objects_access_ids_and_routes_answer_404_in_drs_shape(client, world):
    researcher, files, _ = world
    grant(researcher.id, dataset="DS1")
    headers = researcher.headers()
    assert client.get(f"{DRS}/objects/NOPE", headers=headers).json == {
        "msg": "No DRS object has the id 'NOPE'",
        "status_code": 404,
    }
    ready_object(client, f"{DRS}/objects/{files[0]}", headers)
    wrong = client.get(f"{DRS}/objects/{files[0]}/access/s3", headers=headers)
    assert wrong.status_code == 404 and wrong.json["status_code"] == 404
    assert client.get(f"{DRS}/nothing-here").json["status_code"] == 404
    bad = client.get(f"{DRS}/objects/{'x' * 200}", headers=headers)
    assert bad.status_code == 422 and "object_id" in bad.json["msg"]


def test_a_tampered_or_expired_stream_url_is_403(client, world):
    researcher, files, _ = world
    grant(researcher.id, dataset="DS1")
    headers = researcher.headers()
    ready_object(client, f"{DRS}/objects/{files[0]}", headers)
    url = client.get(f"{DRS}/objects/{files[0]}/access/c4gh", headers=headers).json["url"]
    path = url.split("127.0.0.1:5000", 1)[1]
    tampered = path.replace("signature=", "signature=0")
    assert client.get(tampered).status_code == 403
    assert client.get(path.split("?")[0]).status_code == 403


def test_options_answers_authorizations_and_tells_a_cors_preflight_apart(client, world):
    _, files, _ = world
    answer = client.options(f"{DRS}/objects/{files[0]}")
    assert answer.status_code == 200
    assert answer.json["drs_object_id"] == files[0]
    assert answer.json["supported_types"] == ["BearerAuth"]  # no issuer trusted here
    preflight = client.options(
        f"{DRS}/objects/{files[0]}",
        headers={"Origin": "https://a.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204 and preflight.data == b""
    assert client.options(f"{DRS}/objects/NOPE").status_code == 404


def test_bulk_objects_access_and_authorizations(client, world, app):
    researcher, files, _ = world
    grant(researcher.id, dataset="DS1")
    headers = researcher.headers()
    for file in files:
        ready_object(client, f"{DRS}/objects/{file}", headers)

    objects = client.post(
        f"{DRS}/objects", json={"bulk_object_ids": [*files, "NOPE"]}, headers=headers
    ).json
    assert objects["summary"] == {"requested": 3, "resolved": 2, "unresolved": 1}
    assert objects["unresolved_drs_objects"] == [{"error_code": 404, "object_ids": ["NOPE"]}]
    assert [o["id"] for o in objects["resolved_drs_object"]] == files

    urls = client.post(
        f"{DRS}/objects/access",
        json={
            "bulk_object_access_ids": [
                {"bulk_object_id": f, "bulk_access_ids": ["c4gh"]} for f in files
            ]
        },
        headers=headers,
    ).json
    assert [u["drs_object_id"] for u in urls["resolved_drs_object_access_urls"]] == files

    auths = client.options(f"{DRS}/objects", json={"bulk_object_ids": [files[0], "NOPE"]}).json
    assert auths["summary"]["resolved"] == 1

    too_many = client.post(f"{DRS}/objects", json={"bulk_object_ids": ["a"] * 101}, headers=headers)
    assert too_many.status_code == 413
    assert too_many.json == {
        "msg": "At most 100 objects per bulk request; this one names 101",
        "status_code": 413,
    }


def test_the_access_url_is_audited_with_what_opened_it(client, world, caplog):
    researcher, files, _ = world
    grant(researcher.id, dataset="DS1")
    headers = researcher.headers()
    ready_object(client, f"{DRS}/objects/{files[0]}", headers)
    with caplog.at_level("INFO", logger="wps.audit"):
        client.get(f"{DRS}/objects/{files[0]}/access/c4gh", headers=headers)
    (line,) = [
        r for r in caplog.records if getattr(r, "audit_action", "") == "drs_access_url_issued"
    ]
    assert line.actor == f"user:{researcher.id}"
    assert f"object={files[0]}" in line.detail and "opened_by=grant dataset=DS1" in line.detail


def test_openapi_documents_the_drs_routes_under_their_tag(app):
    document = app.extensions["openapi"]
    drs_paths = {p: ops for p, ops in document["paths"].items() if p.startswith(DRS)}
    assert set(drs_paths[f"{DRS}/objects/{{object_id}}"]) == {"get", "post", "options"}
    assert {"options", "post"} <= set(drs_paths[f"{DRS}/objects"])
    tags = {op["tags"][0] for ops in drs_paths.values() for op in ops.values()}
    assert tags == {"GA4GH DRS"}


def test_with_s3_the_stream_passes_through_the_service(db, instance_path, s3_endpoint):
    from app import create_app
    from tests.conftest import make_settings, s3_settings

    s3_app = create_app(make_settings(instance_path, **s3_settings(s3_endpoint)))
    client = s3_app.test_client()
    researcher = Researcher(s3_app)
    with s3_app.app_context():
        account_for(researcher)
        files, contents = stored_dataset("DS1", files=1)
        grant(researcher.id, dataset="DS1")
    headers = researcher.headers()

    drs_object = ready_object(client, f"{DRS}/objects/{files[0]}", headers).json
    url = client.get(f"{DRS}/objects/{files[0]}/access/c4gh", headers=headers).json["url"]
    assert url.startswith("http://127.0.0.1:5000/ga4gh/drs/v1/streams/")  # not a presigned URL
    stream = client.get(url.split("127.0.0.1:5000", 1)[1]).data
    assert sha256(stream) == drs_object["checksums"][0]["checksum"]
    assert decrypt(researcher, stream) == contents[files[0]]
