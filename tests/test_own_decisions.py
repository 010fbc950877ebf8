"""Four eyes: a steward (or admin) cannot verify their own address nor decide their own
access request, on the pages and the API alike; another steward, an admin or a
DATA_STEWARD key can."""

from sqlalchemy import select

from app.access.models import AccessRequest
from app.ivas.models import Iva
from tests.support.factories import ApplicationKeyFactory, create_dataset
from tests.support.people import make_person
from tests.support.web_sessions import browser_client, read_page, sign_in, submit
from tests.test_ivas import add_iva, person_with_token, rpc

WHO_CAN = "another data steward, an admin, or an application key with DATA_STEWARD"


def ask_for_access(client, person) -> str:
    asked = client.post("/access-requests", json={"dataset_id": "DS1"}, headers=person.headers())
    assert asked.status_code == 201, asked.json
    return asked.json["id"]


def test_over_the_api_a_steward_decides_neither_their_own_request_nor_address(app, client, db):
    create_dataset("DS1")
    steward = person_with_token(app, "steward", email="sam@example.org")
    other = person_with_token(app, "steward", email="olga@example.org")
    request_id = ask_for_access(client, steward)
    iva_id = add_iva(client, steward)
    assert rpc(client, iva_id, "request-code", steward.headers()).status_code == 204

    own_code = rpc(client, iva_id, "create-code", steward.headers())
    own_allow = client.post(
        f"/access-requests/{request_id}/allow", json={}, headers=steward.headers()
    )
    own_deny = client.post(
        f"/access-requests/{request_id}/deny", json={}, headers=steward.headers()
    )

    for refused in (own_code, own_allow, own_deny):
        assert refused.status_code == 403
        assert WHO_CAN in refused.json["detail"]
    assert own_code.json["code"] == "own_verification_address"
    assert own_allow.json["code"] == "own_access_request"
    assert db.session.get(Iva, iva_id).state == "code_requested"
    assert db.session.get(AccessRequest, request_id).status == "pending"
    # Another steward, and a DATA_STEWARD key, may.
    assert rpc(client, iva_id, "create-code", other.headers()).status_code == 201
    key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}
    assert rpc(client, iva_id, "code-transmitted", key).status_code == 204
    denied = client.post(f"/access-requests/{request_id}/deny", json={}, headers=other.headers())
    assert denied.status_code == 200


def test_on_the_pages_a_steward_decides_neither_their_own_request_nor_address(app, db):
    create_dataset("DS1")
    steward = make_person(role="steward", email="sam@example.org")
    mine = browser_client(app)
    sign_in(mine, steward)
    submit(mine, "/catalog/DS1", "/catalog/DS1/request-access", {"note": "mine"})
    (own_request,) = db.session.scalars(select(AccessRequest)).all()
    submit(
        mine, "/verification-addresses", "/verification-addresses",
        {"type": "phone", "value": "+49 6221 540"},
    )  # fmt: skip
    (iva,) = db.session.scalars(select(Iva)).all()
    submit(mine, "/verification-addresses", f"/verification-addresses/{iva.id}/request-code")

    own_code = submit(
        mine,
        "/steward/verification-addresses",
        f"/steward/verification-addresses/{iva.id}/create-code",
    )
    own_deny = submit(
        mine, "/steward/access-requests", f"/steward/access-requests/{own_request.id}/deny"
    )

    for refused in (own_code, own_deny):
        assert refused.status_code == 403
        assert WHO_CAN in read_page(refused).text
    db.session.rollback()
    assert db.session.get(AccessRequest, own_request.id).status == "pending"
    assert db.session.get(Iva, iva.id).state == "code_requested"
    other = browser_client(app)
    sign_in(other, make_person(role="admin", email="ada@example.org"))
    made = submit(
        other,
        "/steward/verification-addresses",
        f"/steward/verification-addresses/{iva.id}/create-code",
    )
    assert made.status_code == 200
