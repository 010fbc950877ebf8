"""Credentials that end: disabling, rejecting and second-factor resets end every access
token, API token and browser session a person held; re-enabling revives none of them;
a role change ends nothing; an API token made after the second factor has an age limit."""

import re
import time
from datetime import UTC, datetime, timedelta

import jwt
import pyotp
import pytest
from sqlalchemy import update

from app.accounts.models import RefreshToken, User
from tests.support.factories import ApplicationKeyFactory
from tests.support.people import make_person
from tests.support.second_factor_steps import csrf_token, enrol, next_step_code, signed_in
from tests.support.secrets_seen import remember
from tests.support.web_sessions import browser_client, sign_in


@pytest.fixture
def admin_key(db):
    return {"Workflow-API-Key": ApplicationKeyFactory(permissions=("USER_ADMIN",)).key}


def bearer(access_token: str) -> dict:
    return {"Authorization": f"Bearer {access_token}"}


def refresh(client, refresh_token: str):
    response = client.post("/token/refresh", json={"refresh_token": refresh_token})
    if response.status_code == 200:
        remember(response.json["access_token"])
        remember(response.json["refresh_token"])
    return response


def api_token_from_the_portal(client) -> str:
    """An API token made on the profile page of a session that passed the second factor."""
    made = client.post("/profile/api-tokens", data={"csrf_token": csrf_token(client, "/profile")})
    assert made.status_code == 200
    assert "at most 30 days after it was made" in made.get_data(as_text=True)
    return remember(re.search(r"(wpsrt_[A-Za-z0-9_-]+)", made.get_data(as_text=True)).group(1))


def enrolled_person_with_api_token(app, role: str = "researcher"):
    """A person who set up TOTP in a browser, made an API token there and traded it once."""
    person = make_person(role=role)
    browser = browser_client(app)
    signed_in(browser, person)
    secret, _ = enrol(browser)
    pair = refresh(browser, api_token_from_the_portal(browser))
    assert pair.status_code == 200
    return person, browser, secret, pair.json


def assert_cut_off(response):
    assert response.status_code == 401, response.json
    assert response.json["code"] == "credentials_reset"
    assert "issued before your credentials were reset" in response.json["detail"]
    assert "make a new API token" in response.json["detail"]


def assert_signed_out(browser):
    page = browser.get("/profile")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login")


def test_nothing_issued_before_disabling_works_after_enabling_again(app, db, admin_key):
    steward, _browser, _secret, pair = enrolled_person_with_api_token(app, "steward")
    other_browser = browser_client(app)
    sign_in(other_browser, steward)
    client = app.test_client()
    old = bearer(pair["access_token"])
    assert client.get("/users/me", headers=old).status_code == 200
    assert client.get("/datasets", headers=old).status_code == 200
    assert other_browser.get("/profile").status_code == 200

    assert client.post(f"/users/{steward.id}/disable", headers=admin_key).status_code == 200
    assert client.post(f"/users/{steward.id}/enable", headers=admin_key).status_code == 200

    # The person's own endpoints, role actions and the IVA API: each refuses it.
    assert_cut_off(client.get("/users/me", headers=old))
    assert_cut_off(client.get("/datasets", headers=old))
    assert_cut_off(client.get(f"/users/{steward.id}/ivas", headers=old))
    assert refresh(client, pair["refresh_token"]).status_code == 401
    assert_signed_out(other_browser)

    reissued = client.post(f"/users/{steward.id}/refresh-token", headers=admin_key)
    fresh = refresh(client, remember(reissued.json["refresh_token"]))
    assert fresh.status_code == 200
    assert client.get("/users/me", headers=bearer(fresh.json["access_token"])).status_code == 200
    signed_in(other_browser, steward)  # a sign-in after the cut-off
    assert other_browser.get("/profile").status_code == 200


def test_rejecting_ends_the_pending_persons_session(app, db, admin_key):
    person = make_person(status="pending")
    browser = browser_client(app)
    signed_in(browser, person)
    assert browser.get("/account/status").status_code == 200

    client = app.test_client()
    assert client.post(f"/users/{person.id}/reject", headers=admin_key).status_code == 200

    status = browser.get("/account/status")
    assert status.status_code == 302 and status.headers["Location"].startswith("/login")


@pytest.mark.parametrize("where", ["api", "admin page"])
def test_an_admin_reset_of_the_second_factor_ends_chains_tokens_and_sessions(
    app, db, admin_key, where
):
    person, browser, _secret, pair = enrolled_person_with_api_token(app)
    client = app.test_client()

    if where == "api":
        reset = client.delete(f"/users/{person.id}/totp", headers=admin_key)
        assert reset.status_code == 204
    else:
        admin = make_person(role="admin")
        admin_browser = browser_client(app)
        sign_in(admin_browser, admin)
        reset = admin_browser.post(
            f"/admin/people/{person.id}/reset-second-factor",
            data={"csrf_token": csrf_token(admin_browser, "/admin/users")},
        )
        assert reset.status_code == 302
        assert admin_browser.get("/admin/users").status_code == 200  # the admin goes on

    chain = refresh(client, pair["refresh_token"])
    assert chain.status_code == 401 and chain.json["code"] == "invalid_refresh_token"
    assert_cut_off(client.get("/users/me", headers=bearer(pair["access_token"])))
    assert_signed_out(browser)


def test_replacing_ones_own_factor_ends_the_other_sessions_and_every_chain(app, db):
    person, browser, old_secret, pair = enrolled_person_with_api_token(app)
    other_browser = browser_client(app)
    sign_in(other_browser, person)
    assert other_browser.get("/profile").status_code == 200

    page = browser.get("/second-factor/setup").get_data(as_text=True)
    new_secret = remember(re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1))
    replaced = browser.post(
        "/second-factor/setup",
        data={
            "csrf_token": csrf_token(browser, "/second-factor/setup"),
            "code": pyotp.TOTP(new_secret).now(),
            "current_code": next_step_code(old_secret),
        },
    )
    assert replaced.status_code == 200

    client = app.test_client()
    assert refresh(client, pair["refresh_token"]).status_code == 401
    assert_cut_off(client.get("/users/me", headers=bearer(pair["access_token"])))
    assert_signed_out(other_browser)
    # The session that replaced it goes on, fully authenticated: a new API token works
    # at once, even within the second of the cut-off.
    assert browser.get("/profile").status_code == 200
    fresh = refresh(client, api_token_from_the_portal(browser))
    assert fresh.status_code == 200
    assert client.get("/users/me", headers=bearer(fresh.json["access_token"])).status_code == 200


def test_the_second_of_a_cut_off(app, db, admin_key):
    """`iat` is in whole seconds: a token from the cut-off's second is refused even when
    made a moment after it, and /token/refresh never makes such a token."""
    person, _browser, _secret, pair = enrolled_person_with_api_token(app)
    client = app.test_client()
    time.sleep(1.05 - time.time() % 1)  # early in a second: all below happens within it
    just_before = refresh(client, pair["refresh_token"]).json

    client.post(f"/users/{person.id}/disable", headers=admin_key)
    client.post(f"/users/{person.id}/enable", headers=admin_key)
    cut_at = db.session.get(User, person.id, populate_existing=True).credentials_valid_after
    reissued = client.post(f"/users/{person.id}/refresh-token", headers=admin_key)
    after = refresh(client, remember(reissued.json["refresh_token"])).json

    iat = jwt.decode(just_before["access_token"], options={"verify_signature": False})["iat"]
    assert iat == int(cut_at.timestamp()), "the test ran across a second boundary"
    assert_cut_off(client.get("/users/me", headers=bearer(just_before["access_token"])))
    claims = jwt.decode(after["access_token"], options={"verify_signature": False})
    assert claims["iat"] > cut_at.timestamp()
    assert client.get("/users/me", headers=bearer(after["access_token"])).status_code == 200


def test_an_api_token_made_after_the_second_factor_ends_at_its_max_age(app, db):
    person, browser, _secret, pair = enrolled_person_with_api_token(app)
    max_age = timedelta(seconds=app.extensions["settings"].mfa_token_family_max_age)
    head = db.session.query(RefreshToken).filter_by(user_id=person.id, used_at=None).one()
    assert head.expires_at <= head.family_created_at + max_age  # the profile says so

    # The chain was renewed yesterday (its head is fresh), but began longer ago.
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == person.id)
        .values(family_created_at=datetime.now(UTC) - max_age - timedelta(seconds=1))
    )
    db.session.commit()
    too_old = refresh(app.test_client(), pair["refresh_token"])

    assert too_old.status_code == 401
    assert too_old.json["code"] == "api_token_too_old"
    assert "make a new API token in the portal" in too_old.json["detail"]
    assert "You have no live API token" in browser.get("/profile").get_data(as_text=True)


def test_a_role_change_keeps_the_token_and_takes_the_rights(app, db, admin_key):
    steward, _browser, _secret, pair = enrolled_person_with_api_token(app, "steward")
    client = app.test_client()
    token = bearer(pair["access_token"])
    assert client.get("/datasets", headers=token).status_code == 200

    demoted = client.post(f"/users/{steward.id}/role", json={"role": "researcher"},
                          headers=admin_key)  # fmt: skip
    assert demoted.status_code == 200

    refused = client.get("/datasets", headers=token)
    assert refused.status_code == 403 and refused.json["code"] == "permission_denied"
    assert client.get("/users/me", headers=token).status_code == 200
    assert refresh(client, pair["refresh_token"]).status_code == 200
