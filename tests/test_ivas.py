"""Verification addresses: the state machine over the API, who may do what, and
download grants bound to them."""

import pytest
from sqlalchemy import select

from app import create_app
from app.ivas import services as ivas
from tests.conftest import make_settings
from tests.support.factories import ApplicationKeyFactory, create_dataset
from tests.support.people import make_person
from tests.support.secrets_seen import remember
from tests.support.users import Researcher


def person_with_token(app, role="researcher", email=None) -> Researcher:
    caller = Researcher(app, email=email or "ada@example.org")
    make_person(role=role, user_id=caller.id, email=caller.email)
    return caller


def add_iva(client, person, type_="phone", value="+49 6221 42"):
    created = client.post(
        f"/users/{person.id}/ivas", json={"type": type_, "value": value}, headers=person.headers()
    )
    assert created.status_code == 201, created.json
    return created.json["id"]


def state(client, person, iva_id) -> str:
    listed = client.get(f"/users/{person.id}/ivas", headers=person.headers()).json
    return {iva["id"]: iva["state"] for iva in listed}[iva_id]


def rpc(client, iva_id, step, headers, **body):
    return client.post(f"/rpc/ivas/{iva_id}/{step}", json=body or None, headers=headers)


def create_code(client, iva_id, steward) -> str:
    made = rpc(client, iva_id, "create-code", steward)
    assert made.status_code == 201, made.json
    assert made.headers["Cache-Control"] == "no-store"
    return remember(made.json["verification_code"])


def verified_iva(client, person, steward) -> str:
    iva_id = add_iva(client, person)
    assert rpc(client, iva_id, "request-code", person.headers()).status_code == 204
    code = create_code(client, iva_id, steward)
    assert rpc(client, iva_id, "code-transmitted", steward).status_code == 204
    verify = rpc(client, iva_id, "verify-code", person.headers(), verification_code=code)
    assert verify.status_code == 204, verify.json
    return iva_id


def test_the_whole_lifecycle_with_notices(told_app, receivers):
    webhook, mail = receivers
    client = told_app.test_client()
    with told_app.app_context():
        person = person_with_token(told_app, email="iva@example.org")
        steward = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}

        iva_id = add_iva(client, person, "postal_address", "Im Neuenheimer Feld 280\nHeidelberg")
        assert state(client, person, iva_id) == "unverified"
        early = rpc(client, iva_id, "verify-code", person.headers(), verification_code="X")
        assert (early.status_code, early.json["code"]) == (409, "iva_wrong_state")
        assert rpc(client, iva_id, "create-code", steward).status_code == 409

        assert rpc(client, iva_id, "request-code", person.headers()).status_code == 204
        assert state(client, person, iva_id) == "code_requested"
        assert any(iva_id in text for text in webhook.texts)
        code = create_code(client, iva_id, steward)
        assert state(client, person, iva_id) == "code_created"
        assert code not in str(ivas.get(iva_id).code_hash)
        assert rpc(client, iva_id, "code-transmitted", steward).status_code == 204
        assert state(client, person, iva_id) == "code_transmitted"
        assert [m.rcpt_tos for m in mail.messages] == [["iva@example.org"]]

        statuses = [
            rpc(client, iva_id, "verify-code", person.headers(), verification_code="WRONG1")
            for _ in range(10)  # MAX_IVA_VERIFICATION_ATTEMPTS, GHGA's 10
        ]
        assert [s.status_code for s in statuses] == [403] * 9 + [429]
        assert statuses[0].json["detail"].endswith("9 attempts left")
        assert statuses[8].json["detail"].endswith("1 attempt left")
        assert statuses[9].json["code"] == "iva_too_many_attempts"
        assert state(client, person, iva_id) == "unverified"
        stale = rpc(client, iva_id, "verify-code", person.headers(), verification_code=code)
        assert stale.status_code == 409  # the old code died with the reset

        assert rpc(client, iva_id, "request-code", person.headers()).status_code == 204
        code = create_code(client, iva_id, steward)
        assert rpc(client, iva_id, "code-transmitted", steward).status_code == 204
        right = rpc(client, iva_id, "verify-code", person.headers(), verification_code=code.lower())
        assert right.status_code == 204
        assert state(client, person, iva_id) == "verified"

        assert rpc(client, iva_id, "unverify", steward).status_code == 204
        assert state(client, person, iva_id) == "unverified"
        deleted = client.delete(f"/users/{person.id}/ivas/{iva_id}", headers=person.headers())
        assert deleted.status_code == 204
        assert client.get(f"/users/{person.id}/ivas", headers=person.headers()).json == []
        from app.accounts.models import AccountEvent
        from app.extensions import db

        recorded = db.session.scalars(
            select(AccountEvent.action)
            .where(AccountEvent.user_id == person.id)
            .order_by(AccountEvent.created_at)
        ).all()
        assert recorded[:4] == [
            "iva_added",
            "iva_code_requested",
            "iva_code_created",
            "iva_code_transmitted",
        ]
        assert "iva_reset_after_wrong_codes" in recorded and recorded[-2:] == [
            "iva_unverified",
            "iva_deleted",
        ]
    subjects = [m.content for m in mail.messages]
    assert any(b"verified now" in s for s in subjects)
    assert any(b"no longer verified" in s for s in subjects)


def test_who_may_do_what(app, client, db):
    person = person_with_token(app)
    other = person_with_token(app, email="other@example.org")
    steward_person = person_with_token(app, "admin", email="steward@example.org")
    steward_key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}
    feed_key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("FEED_PUBLISHER",)).key}
    iva_id = add_iva(client, person)
    assert rpc(client, iva_id, "request-code", person.headers()).status_code == 204

    cases = [
        ("get", f"/users/{person.id}/ivas", other.headers(), 403),
        ("get", f"/users/{person.id}/ivas", steward_key, 200),
        ("get", f"/users/{person.id}/ivas", feed_key, 403),
        ("get", f"/users/{person.id}/ivas", {}, 401),
        ("post", f"/users/{person.id}/ivas", steward_key, 403),
        ("post", f"/rpc/ivas/{iva_id}/create-code", person.headers(), 403),
        ("post", f"/rpc/ivas/{iva_id}/unverify", other.headers(), 403),
        ("post", f"/rpc/ivas/{iva_id}/request-code", other.headers(), 404),
        ("delete", f"/users/{other.id}/ivas/{iva_id}", other.headers(), 404),
        ("post", "/rpc/ivas/not-a-uuid/unverify", steward_key, 422),
    ]
    for method, path, headers, expected in cases:
        body = {"type": "phone", "value": "1"} if path.endswith("/ivas") else None
        answer = getattr(client, method)(path, json=body, headers=headers)
        assert answer.status_code == expected, (method, path, answer.json)

    steward_person.second_factor = False
    provider_only = rpc(client, iva_id, "create-code", steward_person.headers())
    assert (provider_only.status_code, provider_only.json["code"]) == (
        403,
        "second_factor_required",
    )
    steward_person.second_factor = True
    assert rpc(client, iva_id, "create-code", steward_person.headers()).status_code == 201


@pytest.mark.parametrize(
    "body",
    [{"type": "carrier pigeon", "value": "x"}, {"type": "phone", "value": "  "}, {"type": "fax"}],
)
def test_bad_addresses_are_422(app, client, db, body):
    person = person_with_token(app)
    refused = client.post(f"/users/{person.id}/ivas", json=body, headers=person.headers())
    assert refused.status_code == 422 and refused.json["code"] == "validation_error"


def ask_for(client, person, dataset="DS1") -> str:
    asked = client.post("/access-requests", json={"dataset_id": dataset}, headers=person.headers())
    assert asked.status_code == 201
    return asked.json["id"]


def test_a_grant_bound_to_an_address_works_only_while_it_is_verified(app, client, db):
    person = person_with_token(app)
    steward = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}
    create_dataset("DS1", files=1)
    request_id = ask_for(client, person)

    without = client.post(f"/access-requests/{request_id}/allow", json={}, headers=steward)
    assert without.status_code == 422 and without.json["detail"][0]["loc"] == ["body", "iva_id"]
    stranger = person_with_token(app, email="stranger@example.org")
    strangers_iva = add_iva(client, stranger)
    foreign = client.post(
        f"/access-requests/{request_id}/allow", json={"iva_id": strangers_iva}, headers=steward
    )
    assert foreign.status_code == 403 and foreign.json["code"] == "iva_not_usable"

    iva_id = verified_iva(client, person, steward)
    allowed = client.post(
        f"/access-requests/{request_id}/allow", json={"iva_id": iva_id}, headers=steward
    )
    assert allowed.status_code == 200
    grants = client.get(f"/access-grants?user_id={person.id}", headers=steward).json["items"]
    assert [g["iva_id"] for g in grants] == [iva_id]

    body = {"type": "download", "dataset_id": "DS1", "user_public_crypt4gh_key": person.public_key}
    created = client.post("/work-packages", json=body, headers=person.headers())
    assert created.status_code == 201
    wpat = person.open_sealed(created.json["token"])
    token_url = f"/work-packages/{created.json['id']}/files/GHGAFDS10000/work-order-tokens"
    wpat_header = {"Authorization": f"Bearer {wpat}"}
    assert client.post(token_url, headers=wpat_header).status_code == 201
    assert [
        d["id"] for d in client.get(f"/users/{person.id}/datasets", headers=person.headers()).json
    ] == ["DS1"]

    assert rpc(client, iva_id, "unverify", steward).status_code == 204
    stopped = client.post(token_url, headers=wpat_header)
    assert (stopped.status_code, stopped.json["code"]) == (403, "iva_not_verified")
    refused = client.post("/work-packages", json=body, headers=person.headers())
    assert (refused.status_code, refused.json["code"]) == (403, "iva_not_verified")
    assert client.get(f"/users/{person.id}/datasets", headers=person.headers()).json == []

    assert rpc(client, iva_id, "request-code", person.headers()).status_code == 204
    code = create_code(client, iva_id, steward)
    rpc(client, iva_id, "code-transmitted", steward)
    rpc(client, iva_id, "verify-code", person.headers(), verification_code=code)
    assert client.post(token_url, headers=wpat_header).status_code == 201

    client.delete(f"/users/{person.id}/ivas/{iva_id}", headers=person.headers())
    assert client.post(token_url, headers=wpat_header).status_code == 403


def test_grants_by_applications_and_older_grants_need_no_address(app, client, db, steward_key):
    person = person_with_token(app)
    create_dataset("DS1", files=1)
    granted = client.post(
        "/access-grants",
        json={
            "user_id": str(person.id),
            "dataset_id": "DS1",
            "valid_until": "2099-01-01T00:00:00Z",
        },
        headers=steward_key,
    )
    assert granted.status_code == 201 and granted.json["iva_id"] is None
    body = {"type": "download", "dataset_id": "DS1", "user_public_crypt4gh_key": person.public_key}
    assert client.post("/work-packages", json=body, headers=person.headers()).status_code == 201


def test_without_the_requirement_a_steward_may_allow_without_an_address(db, instance_path):
    relaxed = create_app(make_settings(instance_path, require_iva_for_download=False))
    client = relaxed.test_client()
    with relaxed.app_context():
        person = person_with_token(relaxed)
        steward = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}
        create_dataset("DS1", files=1)
        request_id = ask_for(client, person)
        allowed = client.post(f"/access-requests/{request_id}/allow", json={}, headers=steward)
        assert allowed.status_code == 200
