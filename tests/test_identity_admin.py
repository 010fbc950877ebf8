"""Admins approve people on `/admin/users`; every decision is recorded and listed."""

import pytest
from sqlalchemy import select

from app.accounts.models import User
from tests.support.oidc_provider import sign_in_with_test_client
from tests.support.people import INITIAL_ADMIN, post_form


@pytest.fixture
def people_app(identity_app, db, instance_path, oidc_provider, receivers):
    webhook, mail = receivers
    return identity_app(
        instance_path,
        oidc_provider,
        notify_webhook_url=webhook.url,
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
    )


@pytest.fixture
def admin(people_app, oidc_provider):
    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True, name="Bo Boss")
    client = people_app.test_client()
    sign_in_with_test_client(client, oidc_provider, "boss")
    return client


def person(db, sub: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.oidc_subject == sub))


def sign_in_pending(people_app, oidc_provider, sub: str, email: str):
    oidc_provider.person(sub, email=email, email_verified=True, name=sub.title())
    client = people_app.test_client()
    sign_in_with_test_client(client, oidc_provider, sub)
    return client


def test_a_person_signs_in_waits_is_approved_on_the_web_and_signs_in_active(
    people_app, oidc_provider, admin, receivers, db
):
    _webhook, mail = receivers
    grace = sign_in_pending(people_app, oidc_provider, "grace", "grace@uni.example")
    assert grace.get("/admin/users").status_code == 403

    listing = admin.get("/admin/users").get_data(as_text=True)
    assert listing.index("grace@uni.example") < listing.index(INITIAL_ADMIN)
    accepted = post_form(
        admin, f"/admin/users/{person(db, 'grace').id}/accept", page="/admin/users"
    )

    assert accepted.status_code == 303
    assert "Grace (grace@uni.example) accepted." in admin.get("/admin/users").get_data(as_text=True)
    assert [m.rcpt_tos for m in mail.messages] == [["grace@uni.example"]]
    again = people_app.test_client()
    landed = sign_in_with_test_client(again, oidc_provider, "grace", next_path="/account/status")
    assert landed.headers["Location"] == "/account/status"
    assert "Your account is active" in again.get("/account/status").get_data(as_text=True)


def test_admin_forms_without_their_token_change_nothing(people_app, oidc_provider, admin, db):
    sign_in_pending(people_app, oidc_provider, "grace", "grace@uni.example")
    grace = person(db, "grace")

    refused = admin.post(f"/admin/users/{grace.id}/accept")
    wrong = admin.post(f"/admin/users/{grace.id}/accept", data={"csrf_token": "forged"})

    assert (refused.status_code, wrong.status_code) == (400, 400)
    assert "nothing was changed" in refused.get_data(as_text=True)
    assert person(db, "grace").status == "pending"


def test_who_may_open_the_admin_page(people_app, oidc_provider, admin, db):
    anonymous = people_app.test_client().get("/admin/users")
    pending = sign_in_pending(people_app, oidc_provider, "grace", "grace@uni.example")
    post_form(admin, f"/admin/users/{person(db, 'grace').id}/accept", page="/admin/users")

    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/login?next=%2Fadmin%2Fusers"
    assert pending.get("/admin/users").status_code == 403  # now active, still a researcher
    assert "for admins" in pending.get("/admin/users").get_data(as_text=True)


def test_roles_change_and_every_change_is_listed(people_app, oidc_provider, admin, db):
    sign_in_pending(people_app, oidc_provider, "grace", "grace@uni.example")
    sign_in_pending(people_app, oidc_provider, "eve", "eve@uni.example")
    grace, eve = person(db, "grace"), person(db, "eve")
    boss = person(db, "boss")

    post_form(admin, f"/admin/users/{grace.id}/accept", page="/admin/users")
    post_form(admin, f"/admin/users/{grace.id}/role", {"role": "steward"}, page="/admin/users")
    post_form(admin, f"/admin/users/{eve.id}/reject", page="/admin/users")
    bad_role = post_form(admin, f"/admin/users/{grace.id}/role", {"role": "king"}, "/admin/users")
    post_form(admin, f"/admin/users/{grace.id}/disable", page="/admin/users")

    assert bad_role.status_code == 422
    assert (person(db, "grace").status, person(db, "grace").role) == ("disabled", "steward")
    assert person(db, "eve").status == "rejected"
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "researcher → steward" in page
    from app.accounts.models import AccountEvent

    events = db.session.scalars(select(AccountEvent).order_by(AccountEvent.created_at)).all()
    assert [(e.user_id, e.action, e.actor, e.channel) for e in events] == [
        (boss.id, "approved", "configuration:INITIAL_ADMIN_EMAIL", "sign-in"),
        (grace.id, "approved", f"user:{boss.id}", "web"),
        (grace.id, "role_changed", f"user:{boss.id}", "web"),
        (eve.id, "rejected", f"user:{boss.id}", "web"),
        (grace.id, "disabled", f"user:{boss.id}", "web"),
    ]


def test_the_record_is_served_to_admins_through_the_api(people_app, oidc_provider, admin, db):
    from tests.support.factories import ApplicationKeyFactory

    sign_in_pending(people_app, oidc_provider, "grace", "grace@uni.example")
    grace = person(db, "grace")
    key = {"Workflow-API-Key": ApplicationKeyFactory(permissions=("USER_ADMIN",)).key}
    client = people_app.test_client()

    client.post(f"/users/{grace.id}/accept", headers=key)
    client.post(f"/users/{grace.id}/role", json={"role": "admin"}, headers=key)
    listed = client.get("/account-events?limit=2", headers=key)

    assert listed.status_code == 200
    assert listed.json["total_count"] == 3
    assert [(e["action"], e["channel"], e["user_email"]) for e in listed.json["items"]] == [
        ("role_changed", "api", "grace@uni.example"),
        ("approved", "api", "grace@uni.example"),
    ]
    assert listed.json["items"][0]["actor"].startswith("application:")
    assert client.get("/account-events").status_code == 401


def test_the_last_admin_keeps_their_rights(people_app, admin, db):
    boss = person(db, "boss")

    demoted = post_form(admin, f"/admin/users/{boss.id}/role", {"role": "steward"}, "/admin/users")
    disabled = post_form(admin, f"/admin/users/{boss.id}/disable", page="/admin/users")

    assert (demoted.status_code, disabled.status_code) == (409, 409)
    assert "last active admin" in demoted.get_data(as_text=True)
    assert (person(db, "boss").status, person(db, "boss").role) == ("active", "admin")


def test_admins_see_when_the_provider_did_not_verify_an_address(
    people_app, oidc_provider, admin, receivers, db
):
    webhook, _mail = receivers
    oidc_provider.person("eve", email="ceo@uni.example", email_verified=False, name="Eve")
    sign_in_with_test_client(people_app.test_client(), oidc_provider, "eve")

    row = admin.get("/admin/users").get_data(as_text=True).split("ceo@uni.example")[1]

    assert "e-mail unverified" in row.split("</tr>")[0]
    assert "e-mail NOT verified" in webhook.bodies[-1]["blocks"][0]["text"]["text"]
    assert (
        "e-mail unverified"
        not in admin.get("/admin/users")
        .get_data(as_text=True)
        .split(INITIAL_ADMIN)[1]
        .split("</tr>")[0]
    )


def test_a_steward_signed_in_through_the_provider_is_refused_the_admin_page(
    people_app, oidc_provider, db
):
    from tests.support.people import sign_in_with_role

    client = people_app.test_client()
    steward = sign_in_with_role(client, oidc_provider, "kj", "steward")

    refused = client.get("/admin/users")

    assert (steward.status, steward.role) == ("active", "steward")
    assert refused.status_code == 403
