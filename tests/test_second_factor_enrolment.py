"""Setting up a second factor: the key is the session's own, the sign-in must be fresh,
and the person hears of it with a way to say "not you".

The attack these stop: someone with a phished provider login opens the set-up
page, notes the key, and waits for the person to confirm that same key.
"""

import json
import re
from datetime import UTC, datetime
from email import message_from_bytes

import pyotp
from sqlalchemy import select

from app.accounts.models import AccountEvent
from app.second_factor.enrolment import ENROLMENT_KEY, ENROLMENT_TIME
from app.second_factor.models import TotpFactor
from app.second_factor.secret_box import open_secret, seal_secret
from tests.support.oidc_provider import local_path, query, sign_in_with_test_client
from tests.support.people import INITIAL_ADMIN, make_person
from tests.support.second_factor_steps import (
    csrf_token,
    enrol,
    next_step_code,
    pass_second_factor,
    signed_in,
)
from tests.support.secrets_seen import remember

SETUP = "/second-factor/setup"


def shown_key(client) -> str:
    page = client.get(SETUP)
    assert page.status_code == 200, page.status_code
    return remember(re.search(r'id="totp-secret">([A-Z2-7]+)<', page.get_data(as_text=True))[1])


def confirm(client, secret: str, **fields):
    """Send the set-up form (its CSRF token read elsewhere: a GET of the set-up page
    would start a set-up in this session)."""
    token = csrf_token(client, "/verification-addresses")
    code = pyotp.TOTP(secret).now()
    return client.post(SETUP, data={"csrf_token": token, "code": code, **fields})


def age_session(client, key: str, seconds: float) -> None:
    with client.session_transaction() as session:
        session[key] = session[key] - seconds


def events(db, person, action: str) -> list[AccountEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AccountEvent).where(
                AccountEvent.user_id == person.id, AccountEvent.action == action
            )
        )
    )


def test_a_key_noted_in_another_session_is_not_the_one_the_person_confirms(app, client, db):
    person = make_person()
    attacker = app.test_client()
    signed_in(attacker, person)
    signed_in(client, person)

    noted = shown_key(attacker)
    key = shown_key(client)
    assert key != noted
    assert shown_key(client) == key  # a reload shows the same key
    assert confirm(client, key).status_code == 200

    signed_in(attacker, person)
    assert pass_second_factor(attacker, noted).status_code == 422
    assert db.session.get(TotpFactor, person.id).pending_secret is None


def test_a_key_cannot_be_confirmed_from_a_session_that_did_not_show_it(app, client, db):
    person = make_person()
    attacker = app.test_client()
    signed_in(attacker, person)
    noted = shown_key(attacker)

    signed_in(client, person)
    refused = confirm(client, noted)

    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "No new key is waiting in this browser session" in text
    assert re.search(r'id="totp-secret">([A-Z2-7]+)<', text)[1] != noted  # start again here
    assert db.session.get(TotpFactor, person.id) is None


def test_a_key_lasts_ten_minutes_and_ends_with_the_session(app, client, db):
    person = make_person()
    signed_in(client, person)
    key = shown_key(client)
    with client.session_transaction() as session, app.app_context():
        payload = json.loads(open_secret(session[ENROLMENT_KEY]))
        payload["started_at"] -= ENROLMENT_TIME.total_seconds() + 1
        session[ENROLMENT_KEY] = seal_secret(json.dumps(payload))
        assert key not in session[ENROLMENT_KEY]  # the cookie holds it sealed

    late = confirm(client, key)
    assert late.status_code == 422
    assert "lasts 10 minutes" in late.get_data(as_text=True)

    fresh_key = shown_key(client)
    signed_in(client, person)  # a new sign-in is a new session
    assert confirm(client, fresh_key).status_code == 422
    assert db.session.get(TotpFactor, person.id) is None


def test_set_up_needs_a_recent_sign_in(app, client, db):
    person = make_person()
    signed_in(client, person)
    key = shown_key(client)
    max_age = app.extensions["settings"].second_factor_enrol_max_age
    age_session(client, "auth_time", max_age + 1)

    asked = client.get(SETUP)
    assert asked.status_code == 302
    assert query(asked.headers["Location"]) == {"next": SETUP, "fresh": "1"}
    confirmed = confirm(client, key)  # a form sent anyway is not taken
    assert confirmed.status_code == 302
    assert db.session.get(TotpFactor, person.id) is None


def test_replacing_needs_a_recent_sign_in_too(app, client, db):
    person = make_person()
    signed_in(client, person)
    old, _ = enrol(client)
    age_session(client, "auth_time", app.extensions["settings"].second_factor_enrol_max_age + 1)

    assert client.get(SETUP).status_code == 302
    token = csrf_token(client, "/verification-addresses")
    sent = client.post(
        SETUP,
        data={"csrf_token": token, "code": "123456", "current_code": next_step_code(old)},
    )
    assert sent.status_code == 302
    assert events(db, person, "second_factor_replaced") == []


def test_a_stale_sign_in_goes_to_the_provider_with_prompt_login_and_back(
    identity_app, instance_path, oidc_provider, db
):
    app = identity_app(instance_path, oidc_provider, require_second_factor=True)
    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True)
    client = app.test_client()
    sign_in_with_test_client(client, oidc_provider, "boss")
    with client.session_transaction() as session:
        auth_time = session["auth_time"]
    assert abs(auth_time - datetime.now(UTC).timestamp()) < 60  # the mock sends none: now
    age_session(client, "auth_time", 601)

    again = client.get(client.get(SETUP).headers["Location"])
    asked = query(again.headers["Location"])
    assert again.headers["Location"].startswith(oidc_provider.issuer)
    assert (asked["prompt"], asked["max_age"]) == ("login", "600")

    back = client.get(local_path(oidc_provider.approve(again.headers["Location"], "boss")))
    assert back.status_code == 303 and back.headers["Location"] == SETUP
    key = shown_key(client)
    assert confirm(client, key).status_code == 200


def test_the_person_is_told_and_can_report_it_was_not_them(told_app, receivers):
    webhook, mail = receivers
    client = told_app.test_client()
    with told_app.app_context():
        from app.extensions import db

        person = make_person(email="ada@example.org")
        signed_in(client, person)
        enrol(client)

        (message,) = [message_from_bytes(m.content) for m in mail.messages]
        assert message["To"] == "ada@example.org"
        assert message["Subject"] == "A second factor was set up for your account"
        body = message.get_payload(decode=True).decode()
        assert "http://127.0.0.1:5000/second-factor/report" in body
        assert f"{datetime.now(UTC):%Y-%m-%d}" in body

        home = client.get("/").get_data(as_text=True)
        assert "Your second factor was set up" in home and "Not you? Report it" in home

        report_page = client.get("/second-factor/report")
        assert report_page.status_code == 200
        no_csrf = client.post("/second-factor/report", data={"note": "x"})
        assert no_csrf.status_code == 400
        too_long = client.post(
            "/second-factor/report",
            data={"csrf_token": csrf_token(client, "/second-factor/report"), "note": "x" * 1001},
        )
        assert too_long.status_code == 422
        reported = client.post(
            "/second-factor/report",
            data={
                "csrf_token": csrf_token(client, "/second-factor/report"),
                "note": "I was on holiday",
            },
        )
        assert reported.status_code == 303
        (event,) = events(db, person, "second_factor_reported")
        assert event.actor == f"user:{person.id}" and "I was on holiday" in event.detail
        assert "Your second factor was set up" not in client.get("/").get_data(as_text=True)
    (alert,) = [text for text in webhook.texts if "reports" in text]
    assert "ada@example.org" in alert and "set up on" in alert and "I was on holiday" in alert


def test_the_home_page_notice_goes_when_dismissed_or_after_fourteen_days(app, client, db):
    person = make_person()
    signed_in(client, person)
    enrol(client)
    assert "Not you? Report it" in client.get("/").get_data(as_text=True)

    token = csrf_token(client, "/")
    assert (
        client.post("/second-factor/notice/dismiss", data={"csrf_token": token}).status_code == 303
    )
    assert "Not you? Report it" not in client.get("/").get_data(as_text=True)

    other = make_person()
    signed_in(client, other)
    enrol(client)
    (set_up,) = events(db, other, "second_factor_set_up")
    set_up.created_at = set_up.created_at.replace(year=set_up.created_at.year - 1)
    db.session.commit()
    assert "Not you? Report it" not in client.get("/").get_data(as_text=True)


def test_a_replacement_is_recorded_and_told_as_such(app, client, db):
    person = make_person()
    signed_in(client, person)
    old, _ = enrol(client)
    key = shown_key(client)

    replaced = confirm(client, key, current_code=next_step_code(old))

    assert replaced.status_code == 200
    assert len(events(db, person, "second_factor_replaced")) == 1
    assert "Your second factor was replaced" in client.get("/").get_data(as_text=True)


def test_the_development_sign_in_counts_as_fresh(identity_app, instance_path, db):
    from app.accounts.audit import record_event

    app = identity_app(instance_path, None, require_second_factor=True)
    client = app.test_client()
    with app.app_context():
        person = make_person()
        record_event(person.id, "created", "operator:invoke", "cli")
        db.session.commit()
        chosen = client.post(
            "/login/development",
            data={
                "csrf_token": csrf_token(client, "/login/development"),
                "account_id": str(person.id),
                "next": SETUP,
            },
        )
        assert chosen.headers["Location"] == SETUP
        assert client.get(SETUP).status_code == 200

        age_session(client, "auth_time", app.extensions["settings"].second_factor_enrol_max_age + 1)
        to_login = client.get(client.get(SETUP).headers["Location"])
        assert to_login.headers["Location"].startswith("/login/development?next=")
        assert query(to_login.headers["Location"])["next"] == SETUP
