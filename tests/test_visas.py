"""Our grants as GA4GH visas: signed with the visa key, published apart, round trip (ADR 29)."""

import json

import jwt
import pytest

from app import create_app
from app.access.services import revoke_grant
from app.credentials.jwk import generate_private_jwk
from app.extensions import db
from tests.conftest import make_settings
from tests.support.drs_world import account_for, stored_dataset
from tests.support.factories import ApplicationKeyFactory, create_dataset, grant
from tests.support.passport_issuer import PassportIssuer
from tests.support.users import Researcher

BASE = "http://127.0.0.1:5000"
JKU = f"{BASE}/ga4gh/passport/v1/jwks.json"


@pytest.fixture
def person(db, app):
    researcher = Researcher(app)
    account_for(researcher)
    create_dataset("DS1")
    create_dataset("DS2")
    return researcher


def visas_of(client, user_id, headers):
    return client.get(f"/ga4gh/passport/v1/visas/{user_id}", headers=headers)


def verify(client, visa: str) -> dict:
    """As any relying party does: the key named by `kid` from the key set at `jku`."""
    header = jwt.get_unverified_header(visa)
    assert header["jku"] == JKU
    keys = jwt.PyJWKSet.from_dict(client.get("/ga4gh/passport/v1/jwks.json").json)
    (key,) = [k for k in keys.keys if k.key_id == header["kid"]]
    return jwt.decode(visa, key.key, algorithms=["ES256"])


def test_each_live_grant_is_a_visa_that_verifies_with_our_visa_key_set(client, person, app):
    granted = grant(person.id, dataset="DS1", days=30)
    grant(person.id, dataset="DS2", days=400)

    answer = visas_of(client, person.id, person.headers())

    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    claims = [verify(client, visa) for visa in answer.json["ga4gh_passport_v1"]]
    assert [c["ga4gh_visa_v1"]["value"] for c in claims] == [
        f"{BASE}/datasets/DS1",
        f"{BASE}/datasets/DS2",
    ]
    first = claims[0]
    assert (
        first["iss"] == BASE and first["sub"] == str(person.id) and first["jti"] == str(granted.id)
    )
    assert first["ga4gh_visa_v1"]["type"] == "ControlledAccessGrants"
    assert first["ga4gh_visa_v1"]["by"] == "dac"
    assert first["ga4gh_visa_v1"]["asserted"] == int(granted.valid_from.timestamp())
    assert first["exp"] == int(granted.valid_until.timestamp())
    # A grant ending later than a year gives a visa of one year.
    assert claims[1]["exp"] - claims[1]["iat"] == 365 * 86400


def test_the_visa_key_is_not_the_work_order_key(client, person):
    grant(person.id, dataset="DS1")
    visa = visas_of(client, person.id, person.headers()).json["ga4gh_passport_v1"][0]
    work_order_keys = client.get("/.well-known/jwks.json").json["keys"]
    visa_keys = client.get("/ga4gh/passport/v1/jwks.json").json["keys"]
    assert {k["kid"] for k in work_order_keys}.isdisjoint({k["kid"] for k in visa_keys})
    storage_view = jwt.PyJWK(work_order_keys[0])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(visa, storage_view.key, algorithms=["ES256"])


def test_a_revoked_grant_is_no_longer_issued(client, person):
    granted = grant(person.id, dataset="DS1")
    assert len(visas_of(client, person.id, person.headers()).json["ga4gh_passport_v1"]) == 1
    revoke_grant(granted.id)
    db.session.commit()
    assert visas_of(client, person.id, person.headers()).json["ga4gh_passport_v1"] == []


def test_who_may_read_visas(client, person, app):
    grant(person.id, dataset="DS1")
    stranger = Researcher(app, email="grace@example.org")
    account_for(stranger)
    reader = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("VISA_READER",)).key}
    steward = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}

    assert visas_of(client, person.id, {}).status_code == 401
    assert visas_of(client, person.id, {"Authorization": "Bearer x"}).status_code == 401
    other = visas_of(client, person.id, stranger.headers())
    assert other.status_code == 403 and other.json["code"] == "visa_reader_required"
    assert visas_of(client, person.id, steward).status_code == 403
    by_key = visas_of(client, person.id, reader)
    assert by_key.status_code == 200 and len(by_key.json["ga4gh_passport_v1"]) == 1
    person.second_factor = False
    early = visas_of(client, person.id, person.headers())
    assert early.status_code == 403 and early.json["code"] == "second_factor_required"


def test_a_rotated_out_key_stays_published(db, instance_path):
    previous = generate_private_jwk()
    rotated = create_app(make_settings(instance_path, visa_previous_signing_key=previous))
    keys = rotated.test_client().get("/ga4gh/passport/v1/jwks.json").json["keys"]
    assert len(keys) == 2
    assert keys[1]["kid"] == json.loads(previous)["kid"]


def test_round_trip_our_visas_in_a_brokers_passport_open_the_files(db, instance_path):
    broker = PassportIssuer()
    try:
        trusted = [*broker.trusted(), {"iss": BASE, "jku": JKU}]
        ours = create_app(make_settings(instance_path, passport_trusted_issuers=trusted))
        client = ours.test_client()
        person = Researcher(ours)
        with ours.app_context():
            account_for(person, issuer=broker.iss, subject="broker-subject-7")
            files, _ = stored_dataset("DS1")
            grant(person.id, dataset="DS1")
        our_visas = visas_of(client, person.id, person.headers()).json["ga4gh_passport_v1"]
        passport = broker.passport(our_visas, sub="broker-subject-7")

        path = f"/ga4gh/drs/v1/objects/{files[0]}/access/c4gh"
        answer = client.post(path, json={"passports": [passport]})
        if answer.status_code == 202:
            answer = client.post(path, json={"passports": [passport]})

        assert answer.status_code == 200, answer.json
        assert "/ga4gh/drs/v1/streams/" in answer.json["url"]
        assert "/jwks.json" in broker.requests  # the broker's keys came over HTTP
    finally:
        broker.stop()
