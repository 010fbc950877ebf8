"""The pages DRS needs: the profile sets the Crypt4GH key, the dataset page shows DRS URIs."""

import base64

import pytest
from nacl.public import PrivateKey

from app.accounts.models import User
from app.extensions import db
from tests.support.factories import create_dataset
from tests.support.people import make_person
from tests.support.users import Researcher
from tests.support.web_sessions import browser_client, read_page, sign_in, submit


@pytest.fixture
def client(app, db):
    return browser_client(app)


@pytest.fixture
def person(db, client):
    made = make_person(name="Ada Lovelace", email="ada@example.org")
    sign_in(client, made)
    return made


def key_file(public: bytes) -> str:
    encoded = base64.b64encode(public).decode()
    return f"-----BEGIN CRYPT4GH PUBLIC KEY-----\n{encoded}\n-----END CRYPT4GH PUBLIC KEY-----\n"


def stored_key(person_id) -> str | None:
    db.session.rollback()
    return db.session.get(User, person_id).crypt4gh_public_key


def test_the_profile_sets_the_crypt4gh_key_from_the_key_file(client, person):
    page = read_page(client.get("/profile"))
    assert page.contains("No key yet: DRS downloads answer 409 until you set one.")
    public = bytes(PrivateKey.generate().public_key)

    saved = submit(client, "/profile", "/profile/crypt4gh-key", {"public_key": key_file(public)})

    assert saved.status_code == 303
    assert stored_key(person.id) == base64.b64encode(public).decode()
    assert read_page(client.get("/profile")).contains(
        f"Current key: {base64.b64encode(public).decode()}"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not a key", "the key is not valid base64"),
        ("-----BEGIN CRYPT4GH PRIVATE KEY-----\nAAAA\n", "this looks like a private key"),
        (base64.b64encode(b"x" * 16).decode(), "the key must be 32 bytes, not 16"),
    ],
)
def test_anything_but_a_public_key_is_refused_on_the_page(client, person, text, message):
    response = submit(client, "/profile", "/profile/crypt4gh-key", {"public_key": text})
    assert response.status_code == 422
    assert read_page(response).contains(message)
    assert stored_key(person.id) is None


def test_the_dataset_page_shows_each_files_drs_uri(client, person):
    create_dataset("DS1", files=2)
    page = read_page(client.get("/catalog/DS1"))
    assert "drs://127.0.0.1:5000/GHGAFDS10000" in page.text
    assert "drs://127.0.0.1:5000/GHGAFDS10001" in page.text
    assert "drs://127.0.0.1:5000/DS1" in page.text


def test_the_api_sets_and_removes_the_key(db, app):
    researcher = Researcher(app)
    from tests.support.drs_world import account_for

    account_for(researcher, key=False)
    client = app.test_client()
    path = "/users/me/crypt4gh-public-key"
    answer = client.put(
        path, json={"public_key": researcher.public_key}, headers=researcher.headers()
    )
    assert answer.status_code == 200 and answer.json["crypt4gh_public_key"] == researcher.public_key
    bad = client.put(path, json={"public_key": "nope"}, headers=researcher.headers())
    assert bad.status_code == 422 and bad.json["code"] == "invalid_crypt4gh_key"
    assert client.put(path, json={"public_key": None}).status_code == 401
    removed = client.put(path, json={"public_key": None}, headers=researcher.headers())
    assert removed.json["crypt4gh_public_key"] is None
