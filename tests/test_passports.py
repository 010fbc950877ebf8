"""GA4GH Passports open files through DRS (ADR 29), and every broken one is refused.

The issuer is real: its keys are fetched over HTTP from the jku it serves.
"""

import io
import time

import crypt4gh.lib
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from app import create_app
from tests.conftest import make_settings
from tests.support.drs_world import account_for, sha256, stored_dataset
from tests.support.passport_issuer import PassportIssuer
from tests.support.users import Researcher

DRS = "/ga4gh/drs/v1"
BASE = "http://127.0.0.1:5000"
DATASET_URL = f"{BASE}/datasets/DS1"


@pytest.fixture(scope="module")
def issuer():
    started = PassportIssuer()
    yield started
    started.stop()


@pytest.fixture
def passport_app(db, instance_path, issuer):
    return create_app(make_settings(instance_path, passport_trusted_issuers=issuer.trusted()))


@pytest.fixture
def world(passport_app, issuer):
    researcher = Researcher(passport_app)
    with passport_app.app_context():
        account_for(researcher, issuer=issuer.iss, subject="person-1")
        files, contents = stored_dataset("DS1")
    return passport_app.test_client(), researcher, files, contents


def access(client, file, passports):
    path = f"{DRS}/objects/{file}/access/c4gh"
    answer = client.post(path, json={"passports": passports})
    if answer.status_code == 202:  # the person's stream is being prepared
        answer = client.post(path, json={"passports": passports})
    return answer


def test_a_visa_for_the_dataset_opens_its_files(world, issuer, caplog):
    client, researcher, files, contents = world
    visa = issuer.visa(DATASET_URL)
    passport = issuer.passport([visa])

    drs_object = client.post(f"{DRS}/objects/{files[0]}", json={"passports": [passport]})
    if drs_object.status_code == 202:
        drs_object = client.post(f"{DRS}/objects/{files[0]}", json={"passports": [passport]})
    assert drs_object.status_code == 200, drs_object.json
    with caplog.at_level("INFO", logger="wps.audit"):
        answer = access(client, files[0], [passport])
    assert answer.status_code == 200, answer.json
    stream = client.get(answer.json["url"].split("127.0.0.1:5000", 1)[1]).data
    assert sha256(stream) == drs_object.json["checksums"][0]["checksum"]
    plain = io.BytesIO()
    crypt4gh.lib.decrypt([(0, bytes(researcher.crypt4gh), None)], io.BytesIO(stream), plain)
    assert plain.getvalue() == contents[files[0]]
    (line,) = [
        r for r in caplog.records if getattr(r, "audit_action", "") == "drs_access_url_issued"
    ]
    assert f"visa iss={issuer.iss} value={DATASET_URL}" in line.detail
    assert "by=dac" in line.detail
    assert issuer.requests.count("/jwks.json") == 1  # fetched once, then cached


def test_a_passport_opens_without_a_local_grant_and_without_the_second_factor(world, issuer):
    client, researcher, files, _ = world
    # No grant exists; the bearer token route refuses, the visa opens.
    assert client.get(f"{DRS}/objects/{files[0]}", headers=researcher.headers()).status_code == 403
    assert (
        access(client, files[0], [issuer.passport([issuer.visa(DATASET_URL)])]).status_code == 200
    )


def _now() -> int:
    return int(time.time())


def _other_key():
    return ec.generate_private_key(ec.SECP256R1())


BROKEN = {
    # name: (make the passport list, status, words of the reason)
    "unknown iss": (
        lambda i: [i.passport([i.visa(DATASET_URL)], iss="https://stranger.example.org")],
        401,
        "issuer 'https://stranger.example.org' is not trusted",
    ),
    "jku not paired with its iss": (
        lambda i: [i.passport([i.visa(DATASET_URL)], header={"jku": "http://127.0.0.1:1/k"})],
        401,
        "`jku` 'http://127.0.0.1:1/k' is not the key set of",
    ),
    "expired passport": (
        lambda i: [i.passport([i.visa(DATASET_URL)], lifetime=-600)],
        401,
        "the Passport has expired",
    ),
    "expired visa": (
        lambda i: [i.passport([i.visa(DATASET_URL, lifetime=-600)])],
        403,
        "visa 1: the visa has expired",
    ),
    "asserted in the future": (
        lambda i: [i.passport([i.visa(DATASET_URL, asserted=_now() + 3600)])],
        403,
        "visa 1: `asserted` lies in the future",
    ),
    "missing by": (
        lambda i: [i.passport([i.visa(DATASET_URL, by=None)])],
        403,
        "must say `by` whom it was granted",
    ),
    "wrong value": (
        lambda i: [i.passport([i.visa(f"{BASE}/datasets/DS9")])],
        403,
        "No visa in the Passport opens DS1",
    ),
    "alg none": (
        lambda i: [i.unsigned(i.passport_claims([i.visa(DATASET_URL)]))],
        401,
        "signed with 'none'",
    ),
    "HS256 keyed with the public key": (
        lambda i: [i.hmac_with_public_key(i.passport_claims([i.visa(DATASET_URL)]))],
        401,
        "signed with 'HS256'",
    ),
    "visa re-signed by another key": (
        lambda i: [i.passport([i.visa(DATASET_URL, key=_other_key())])],
        403,
        "visa 1: the visa's signature does not verify",
    ),
    "passport re-signed by another key": (
        lambda i: [i.passport([i.visa(DATASET_URL)], key=_other_key())],
        401,
        "the Passport's signature does not verify",
    ),
    "subject linked to no account": (
        lambda i: [i.passport([i.visa(DATASET_URL, sub="nobody")], sub="nobody")],
        403,
        "subject 'nobody'",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_every_broken_passport_is_refused_with_a_reason(world, issuer, case):
    client, _, files, _ = world
    make, status, reason = BROKEN[case]

    answer = access(client, files[0], make(issuer))

    assert answer.status_code == status, answer.json
    assert reason in answer.json["msg"], answer.json["msg"]
    assert answer.json["status_code"] == status


def test_options_names_the_trusted_passport_issuers(world, issuer):
    client, _, files, _ = world
    answer = client.options(f"{DRS}/objects/{files[0]}").json
    assert answer["supported_types"] == ["BearerAuth", "PassportAuth"]
    assert answer["passport_auth_issuers"] == [issuer.iss]


def test_passports_are_refused_when_no_issuer_is_trusted(client, db, app, issuer):
    researcher = Researcher(app)
    account_for(researcher, issuer=issuer.iss, subject="person-1")
    files, _ = stored_dataset("DS1")
    answer = access(client, files[0], [issuer.passport([issuer.visa(DATASET_URL)])])
    assert answer.status_code == 401
    assert answer.json["msg"] == "This service trusts no Passport issuer"


def test_an_unknown_kid_is_refused_without_hammering_the_issuer(world, issuer):
    client, _, files, _ = world
    assert (
        access(client, files[0], [issuer.passport([issuer.visa(DATASET_URL)])]).status_code == 200
    )
    fetched = issuer.requests.count("/jwks.json")
    for _ in range(3):
        stranger = issuer.passport([issuer.visa(DATASET_URL)], header={"kid": "unknown"})
        answer = access(client, files[0], [stranger])
        assert answer.status_code == 401
        assert "no key 'unknown' in the key set" in answer.json["msg"]
    assert issuer.requests.count("/jwks.json") == fetched
