"""An e-mail address the provider verified is accepted on every token path, even one
an e-mail validator refuses (`u@localhost`): the account is identified by its id."""

from sqlalchemy import select

from app.access.models import AccessRequest
from app.accounts.services import issue_refresh_token
from app.extensions import db as _db
from tests.support.factories import create_dataset
from tests.support.people import make_person
from tests.support.secrets_seen import remember
from tests.support.web_sessions import browser_client, read_page, sign_in, submit

LOCAL_ONLY = "u@localhost"


def test_a_refresh_token_of_an_account_at_localhost_is_traded(app, db):
    person = make_person(name="Una Local", email=LOCAL_ONLY)
    token = remember(issue_refresh_token(person.id))
    _db.session.commit()

    response = app.test_client().post("/token/refresh", json={"refresh_token": token})

    assert response.status_code == 200, response.json
    remember(response.json["refresh_token"])
    access = remember(response.json["access_token"])
    me = app.test_client().get(
        f"/users/{person.id}/datasets", headers={"Authorization": f"Bearer {access}"}
    )
    assert me.status_code == 200


def test_an_account_at_localhost_requests_access_on_the_page(app, db):
    create_dataset("DS1")
    person = make_person(name="Una Local", email=LOCAL_ONLY)
    client = browser_client(app)
    sign_in(client, person)

    response = submit(
        client, "/catalog/DS1", "/catalog/DS1/request-access", {"note": "please"},
        follow_redirects=True,
    )  # fmt: skip

    assert response.status_code == 200
    assert read_page(response).contains("Your request for DS1 was sent")
    (made,) = db.session.scalars(select(AccessRequest)).all()
    assert made.user_id == person.id
