"""The second factor: TOTP set-up and use, replay, lockout, recovery codes, levels."""

import re
from datetime import UTC, datetime, timedelta

import jwt
import pyotp
import pytest
from sqlalchemy import select

from app import create_app
from app.accounts import services as accounts
from app.config import SettingsError, load_settings
from app.ivas import services as ivas
from app.ivas.models import IvaType
from app.second_factor.models import RecoveryCode, TotpFactor
from tests.conftest import make_settings
from tests.support.factories import ApplicationKeyFactory, create_dataset, grant
from tests.support.people import make_person
from tests.support.second_factor_steps import (
    csrf_token,
    enrol,
    next_step_code,
    pass_second_factor,
    signed_in,
)
from tests.support.secrets_seen import remember
from tests.support.users import Researcher

STEWARD_PAGE = "/steward/verification-addresses"


def test_set_up_with_an_authenticator_app_then_pass_it_in_a_new_session(client, db):
    person = make_person(role="admin")
    signed_in(client, person)

    setup = client.get("/second-factor/setup")
    page = setup.get_data(as_text=True)
    assert setup.status_code == 200
    assert setup.headers["Cache-Control"] == "no-store"
    assert "<svg" in page and "style=" not in page.split("<svg", 1)[1].split("</svg>")[0]
    uri = re.search(r'id="totp-uri">([^<]+)<', page).group(1).replace("&amp;", "&")
    assert uri.startswith("otpauth://totp/") and person.email.replace("@", "%40") in uri

    secret, codes = enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.get(TotpFactor, person.id)
    assert stored.confirmed_at is not None and secret not in stored.secret
    hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10 and not set(codes) & set(hashes)

    signed_in(client, person)  # a new session starts at the provider level again
    asked = client.get(STEWARD_PAGE)
    assert asked.status_code == 302
    assert asked.headers["Location"].startswith("/second-factor/verify?next=")
    passed = pass_second_factor(client, secret)
    assert passed.status_code == 302
    assert client.get(STEWARD_PAGE).status_code == 200


def test_a_code_is_accepted_once(client, db):
    person = make_person(role="steward")
    signed_in(client, person)
    secret, _ = enrol(client)
    signed_in(client, person)
    assert pass_second_factor(client, secret).status_code == 302

    signed_in(client, person)
    replayed = pass_second_factor(client, secret)  # the same time step again
    assert replayed.status_code == 422
    assert "already used" in replayed.get_data(as_text=True)
    assert client.get(STEWARD_PAGE).status_code == 302


def test_five_wrong_codes_lock_it_and_tell_the_person_and_the_admins(told_app, receivers):
    webhook, mail = receivers
    client = told_app.test_client()
    with told_app.app_context():
        person = make_person(email="locked@example.org")
        signed_in(client, person)
        secret, _ = enrol(client)
        signed_in(client, person)
        token = csrf_token(client, "/second-factor/verify")
        statuses = [
            client.post(
                "/second-factor/verify", data={"csrf_token": token, "code": "000000"}
            ).status_code
            for _ in range(5)
        ]
        assert statuses == [422, 422, 422, 422, 429]
        right = client.post(
            "/second-factor/verify",
            data={"csrf_token": token, "code": next_step_code(secret)},
        )
        assert right.status_code == 429
        assert "locked until" in right.get_data(as_text=True)
        from app.extensions import db

        locked = db.session.get(TotpFactor, person.id)
        assert locked.locked_until > datetime.now(UTC) + timedelta(minutes=14)
        from app.accounts.models import AccountEvent

        recorded = db.session.scalars(
            select(AccountEvent.action).where(AccountEvent.user_id == person.id)
        ).all()
        assert "second_factor_set_up" in recorded and "second_factor_locked" in recorded
    assert any("locked@example.org" in text and "locked" in text for text in webhook.texts)
    assert [m.rcpt_tos for m in mail.messages] == [["locked@example.org"]] * 2
    subjects = [
        m.content.decode().split("Subject: ", 1)[1].split("\n", 1)[0] for m in mail.messages
    ]
    assert sorted(s.strip() for s in subjects) == [
        "A second factor was set up for your account",
        "Your second factor is locked",
    ]


def test_a_recovery_code_works_once(client, db):
    person = make_person()
    signed_in(client, person)
    _, codes = enrol(client)

    signed_in(client, person)
    token = csrf_token(client, "/second-factor/verify")
    first = client.post("/second-factor/verify", data={"csrf_token": token, "code": codes[3]})
    assert first.status_code == 302
    signed_in(client, person)
    token = csrf_token(client, "/second-factor/verify")
    again = client.post("/second-factor/verify", data={"csrf_token": token, "code": codes[3]})
    assert again.status_code == 422
    left = client.get("/second-factor/verify").get_data(as_text=True)
    assert "Recovery codes left: 9" in left


def test_replacing_the_second_factor_needs_a_current_code_and_drops_the_addresses(client, db):
    person = make_person()
    signed_in(client, person)
    old_secret, _ = enrol(client)
    ivas.add(person.id, IvaType.PHONE, "+49 6221 0000", max_per_person=5)
    db.session.commit()

    page = client.get("/second-factor/setup").get_data(as_text=True)
    assert "Code from your current app" in page
    new_secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    remember(new_secret)
    token = csrf_token(client, "/second-factor/setup")
    new_code = pyotp.TOTP(new_secret).now()
    refused = client.post(
        "/second-factor/setup",
        data={"csrf_token": token, "code": new_code, "current_code": "123456"},
    )
    assert refused.status_code == 422
    assert len(ivas.list_for(person.id)) == 1

    replaced = client.post(
        "/second-factor/setup",
        data={
            "csrf_token": token,
            "code": new_code,
            "current_code": next_step_code(old_secret),
        },
    )
    assert replaced.status_code == 200
    assert ivas.list_for(person.id) == []
    signed_in(client, person)
    assert pass_second_factor(client, old_secret, steps_ahead=-1).status_code == 422
    assert pass_second_factor(client, new_secret).status_code == 302


def test_an_admin_resets_a_second_factor(app, client, db):
    person = make_person()
    signed_in(client, person)
    enrol(client)
    admin_key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("USER_ADMIN",)).key}

    reset = client.delete(f"/users/{person.id}/totp", headers=admin_key)
    assert reset.status_code == 204
    assert db.session.get(TotpFactor, person.id) is None
    assert client.delete(f"/users/{person.id}/totp", headers=admin_key).status_code == 404
    signed_in(client, person)
    assert client.get("/second-factor/verify").headers["Location"] == "/second-factor/setup"

    enrol(client)
    admin = make_person(role="admin")
    admin_client = app.test_client()
    signed_in(admin_client, admin)
    enrol(admin_client)
    people_page = admin_client.get("/admin/users").get_data(as_text=True)
    assert f"/admin/people/{person.id}/reset-second-factor" in people_page
    reset_on_page = admin_client.post(
        f"/admin/people/{person.id}/reset-second-factor",
        data={"csrf_token": csrf_token(admin_client, "/admin/users")},
    )
    assert reset_on_page.status_code == 302
    assert db.session.get(TotpFactor, person.id) is None


def test_a_provider_only_session_cannot_act(client, db):
    admin = make_person(role="admin")
    signed_in(client, admin)
    secret, _ = enrol(client)
    signed_in(client, admin)
    owner = make_person()  # not the admin's own: that one another steward verifies
    iva = ivas.add(owner.id, IvaType.FAX, "+49 30 1234", max_per_person=5)
    ivas.request_code(iva, per_day=3)
    db.session.commit()

    assert client.get(STEWARD_PAGE).status_code == 302
    token = csrf_token(client)
    refused = client.post(f"{STEWARD_PAGE}/{iva.id}/create-code", data={"csrf_token": token})
    assert refused.status_code == 403
    assert "second factor" in refused.get_data(as_text=True)
    assert ivas.get(iva.id).state == "code_requested"

    pass_second_factor(client, secret)
    made = client.post(f"{STEWARD_PAGE}/{iva.id}/create-code", data={"csrf_token": token})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"


def test_work_packages_and_admin_actions_need_a_token_made_after_the_second_factor(app, client, db):
    researcher = Researcher(app)
    make_person(user_id=researcher.id)
    create_dataset("DS1", files=1)
    grant(researcher.id, dataset="DS1")
    body = {
        "type": "download",
        "dataset_id": "DS1",
        "user_public_crypt4gh_key": researcher.public_key,
    }

    researcher.second_factor = False
    provider_only = client.post("/work-packages", json=body, headers=researcher.headers())
    assert provider_only.status_code == 403
    assert provider_only.json["code"] == "second_factor_required"

    researcher.second_factor = True
    assert client.post("/work-packages", json=body, headers=researcher.headers()).status_code == 201

    admin = make_person(role="admin")
    for after_second_factor, expected in ((False, 403), (True, 200)):
        refresh_token = remember(accounts.issue_refresh_token(admin.id, None, after_second_factor))
        db.session.commit()
        pair = client.post("/token/refresh", json={"refresh_token": refresh_token}).json
        access = remember(pair["access_token"])
        claims = jwt.decode(access, options={"verify_signature": False})
        assert ("mfa" in claims.get("amr", [])) is after_second_factor
        listed = client.get("/users", headers={"Authorization": f"Bearer {access}"})
        assert listed.status_code == expected


def test_second_factor_may_be_off_only_in_development(instance_path, monkeypatch, db, caplog):
    monkeypatch.setenv("DEPLOYMENT", "production")
    monkeypatch.setenv("REQUIRE_SECOND_FACTOR", "false")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    assert "\n" not in message and message.startswith("Invalid setting REQUIRE_SECOND_FACTOR")
    monkeypatch.undo()

    with caplog.at_level("WARNING"):
        relaxed = create_app(make_settings(instance_path, require_second_factor=False))
    assert "REQUIRE_SECOND_FACTOR=false" in caplog.text
    client = relaxed.test_client()
    with relaxed.app_context():
        admin = make_person(role="admin")
        signed_in(client, admin)
        assert client.get(STEWARD_PAGE).status_code == 200


def test_addresses_through_the_pages_of_both_sides(app, client, db):
    from tests.support.second_factor_steps import form

    person, steward = make_person(), make_person(role="admin")
    steward_client = app.test_client()

    signed_in(client, person)
    added = form(client, "/verification-addresses", type="phone", value="+49 6221 42")
    assert added.status_code == 302
    bad = form(client, "/verification-addresses", type="pigeon", value="x")
    assert bad.status_code == 422 and "Choose the kind" in bad.get_data(as_text=True)
    (iva,) = ivas.list_for(person.id)
    requested = form(client, f"/verification-addresses/{iva.id}/request-code")
    assert requested.status_code == 302

    signed_in(steward_client, steward)
    enrol(steward_client)  # set-up passes the second factor for this session
    queue = steward_client.get(STEWARD_PAGE).get_data(as_text=True)
    assert "+49622142" in queue and "Create code" in queue  # stored in E.164
    token = csrf_token(steward_client, STEWARD_PAGE)
    made = steward_client.post(f"{STEWARD_PAGE}/{iva.id}/create-code", data={"csrf_token": token})
    assert made.headers["Cache-Control"] == "no-store"
    assert f"Send this code to <strong>{person.name}</strong>" in made.get_data(as_text=True)
    code = remember(
        re.search(r'id="verification-code">([A-Z0-9]+)<', made.get_data(as_text=True)).group(1)
    )
    sent = steward_client.post(f"{STEWARD_PAGE}/{iva.id}/transmitted", data={"csrf_token": token})
    assert sent.status_code == 302

    page = client.get("/verification-addresses").get_data(as_text=True)
    assert "Code you received" in page
    wrong = form(client, f"/verification-addresses/{iva.id}/verify", code="NOPE")
    assert wrong.status_code == 303
    assert "9 attempts left" in client.get("/verification-addresses").get_data(as_text=True)
    right = form(client, f"/verification-addresses/{iva.id}/verify", code=code)
    assert right.status_code == 302
    assert ivas.get(iva.id).state == "verified"
    assert "Your phone number is verified" in client.get("/verification-addresses").get_data(
        as_text=True
    )

    unverified = steward_client.post(
        f"{STEWARD_PAGE}/{iva.id}/unverify", data={"csrf_token": token}
    )
    assert unverified.status_code == 302 and ivas.get(iva.id).state == "unverified"
    missing = steward_client.post(
        f"{STEWARD_PAGE}/00000000-0000-4000-8000-000000000000/unverify", data={"csrf_token": token}
    )
    assert missing.status_code == 404


def test_a_provider_only_session_makes_no_work_package_and_no_api_token(app, client, db):
    person = make_person()
    create_dataset("DS1", files=1)
    grant(person.id, dataset="DS1")
    signed_in(client, person)
    token = csrf_token(client, "/my-work-packages")
    for path in ("/my-work-packages/download", "/profile/api-tokens"):
        refused = client.post(
            path,
            data={
                "csrf_token": token,
                "dataset_id": "DS1",
                "user_public_crypt4gh_key": Researcher(app).public_key,
            },
        )
        assert refused.status_code == 403, path
        assert "second factor" in refused.get_data(as_text=True)
    from app.work_packages.models import WorkPackage

    assert db.session.scalars(select(WorkPackage)).all() == []

    enrol(client)  # passes the second factor in this session
    made = client.post("/profile/api-tokens", data={"csrf_token": csrf_token(client)})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    refresh_token = remember(
        re.search(r"(wpsrt_[A-Za-z0-9_-]+)", made.get_data(as_text=True)).group(1)
    )
    pair = client.post("/token/refresh", json={"refresh_token": refresh_token}).json
    remember(pair["refresh_token"])
    claims = jwt.decode(remember(pair["access_token"]), options={"verify_signature": False})
    assert claims["amr"] == ["otp", "mfa"]


def test_a_passed_second_factor_counts_for_second_factor_max_age(app, client, db):
    admin = make_person(role="admin")
    signed_in(client, admin)
    enrol(client)
    assert client.get(STEWARD_PAGE).status_code == 200
    max_age = app.extensions["settings"].second_factor_max_age
    with client.session_transaction() as session:
        session["second_factor_at"] = datetime.now(UTC).timestamp() - max_age - 1
    assert client.get(STEWARD_PAGE).status_code == 302


def test_a_wrong_code_says_how_many_tries_are_left(client, db):
    person = make_person()
    signed_in(client, person)
    enrol(client)
    signed_in(client, person)
    token = csrf_token(client, "/second-factor/verify")
    wrong = client.post("/second-factor/verify", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 422
    assert "4 more wrong codes lock your second factor for 15 minutes." in wrong.get_data(
        as_text=True
    )


def test_an_application_key_as_a_bearer_token_is_told_its_header(client, db):
    key = ApplicationKeyFactory(permissions=("ADMIN",)).key
    person = make_person()
    answer = client.get(f"/users/{person.id}/datasets", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 401
    assert "Workflow-API-Key header" in answer.json["detail"]
