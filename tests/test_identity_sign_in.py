"""Signing in through a real OpenID provider: PKCE, state, nonce, who becomes what."""

import pytest
from sqlalchemy import select

from app.accounts.models import AccountEvent, User
from tests.support.oidc_provider import local_path, query, sign_in_with_test_client
from tests.support.people import INITIAL_ADMIN, post_form
from tests.support.receivers import WebhookReceiver


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def people_app(identity_app, db, instance_path, oidc_provider, webhook):
    return identity_app(instance_path, oidc_provider, notify_webhook_url=webhook.url)


def accounts(db) -> list[User]:
    db.session.expire_all()
    return list(db.session.scalars(select(User).order_by(User.created_at)))


def test_login_goes_to_the_provider_with_pkce_state_and_nonce(people_app, oidc_provider):
    response = people_app.test_client().get("/login?next=/catalog")

    assert response.status_code in (302, 303)
    location = response.headers["Location"]
    assert location.startswith(f"{oidc_provider.issuer}/oauth2/authorize?")
    asked = query(location)
    assert asked["response_type"] == "code"
    assert asked["client_id"] == "wps-test-client"
    assert asked["redirect_uri"] == "http://127.0.0.1:5000/login/callback"
    assert asked["scope"] == "openid email profile"
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) == 43  # base64url of a SHA-256
    assert len(asked["state"]) >= 20 and len(asked["nonce"]) >= 20


def test_first_sign_in_is_pending_and_the_admins_are_told(people_app, oidc_provider, webhook, db):
    oidc_provider.person("grace", email="grace@uni.example", email_verified=True, name="Grace H")
    client = people_app.test_client()

    landed = sign_in_with_test_client(client, oidc_provider, "grace", next_path="/catalog")

    assert landed.status_code == 303
    assert landed.headers["Location"] == "/account/status"
    page = client.get("/account/status")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "pending" in text and "administrator has been told" in text
    (grace,) = accounts(db)
    assert (grace.status, grace.role, grace.name) == ("pending", "researcher", "Grace H")
    assert (grace.oidc_issuer, grace.oidc_subject) == (oidc_provider.issuer, "grace")
    (message,) = webhook.bodies
    buttons = message["blocks"][1]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("approve_person", str(grace.id)),
        ("reject_person", str(grace.id)),
    ]


def test_the_verified_initial_admin_is_an_active_admin(people_app, oidc_provider, db):
    oidc_provider.person("boss", email=INITIAL_ADMIN.upper(), email_verified=True)
    client = people_app.test_client()

    landed = sign_in_with_test_client(client, oidc_provider, "boss", next_path="/admin/users")

    assert landed.headers["Location"] == "/admin/users"
    (boss,) = accounts(db)
    assert (boss.status, boss.role) == ("active", "admin")
    assert client.get("/admin/users").status_code == 200


@pytest.mark.parametrize("verified", [False, "yes", None])
def test_an_unverified_admin_address_makes_nobody_admin(people_app, oidc_provider, db, verified):
    claims = {"email": INITIAL_ADMIN} | (
        {"email_verified": verified} if verified is not None else {}
    )
    oidc_provider.person("mallory", **claims)
    client = people_app.test_client()

    sign_in_with_test_client(client, oidc_provider, "mallory", next_path="/admin/users")

    (mallory,) = accounts(db)
    assert (mallory.status, mallory.role) == ("pending", "researcher")
    assert client.get("/admin/users").status_code == 403


def test_signup_is_closed_when_people_sign_in_through_a_provider(people_app, db):
    response = people_app.test_client().post(
        "/users/signup", json={"name": "Mallory", "email": INITIAL_ADMIN}
    )

    assert response.status_code == 403
    assert response.json["code"] == "signup_closed"
    assert "/login" in response.json["detail"]
    assert accounts(db) == []


def test_signup_without_a_provider_never_makes_an_admin(identity_app, db, instance_path):
    client = identity_app(instance_path, None).test_client()

    response = client.post("/users/signup", json={"name": "Mallory", "email": INITIAL_ADMIN})

    assert response.status_code == 201
    assert (response.json["status"], response.json["is_admin"]) == ("pending", False)
    from tests.support.secrets_seen import remember

    remember(response.json["refresh_token"])


@pytest.mark.parametrize(
    ("next_path", "lands_on"),
    [
        ("/admin/users?tab=pending", "/admin/users?tab=pending"),
        ("https://evil.example/x", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/\t/evil.example", "/"),
        ("/\r\n/evil.example", "/"),
        ("\\evil.example", "/"),
    ],
)
def test_next_is_only_ever_a_path_on_this_site(people_app, oidc_provider, db, next_path, lands_on):
    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True)

    landed = sign_in_with_test_client(people_app.test_client(), oidc_provider, "boss", next_path)

    assert landed.status_code == 303
    assert landed.headers["Location"] == lands_on


def test_a_wrong_state_is_refused_and_nothing_is_created(people_app, oidc_provider, db):
    oidc_provider.person("grace", email="grace@uni.example", email_verified=True)
    client = people_app.test_client()
    started = client.get("/login")
    back = oidc_provider.approve(started.headers["Location"], "grace")
    forged = local_path(back).replace(f"state={query(back)['state']}", "state=forged-state-value")

    refused = client.get(forged)
    elsewhere = people_app.test_client().get(local_path(back))  # another browser, right state

    assert refused.status_code == 403
    assert "not started in this browser" in refused.get_data(as_text=True)
    assert elsewhere.status_code == 403
    assert accounts(db) == []
    assert client.get("/account/status").status_code == 302  # still anonymous


def test_a_pre_existing_account_is_linked_only_by_a_verified_address(people_app, oidc_provider, db):
    from app.accounts.schemas import SignupRequest
    from app.accounts.services import create_local_account

    existing = create_local_account(SignupRequest(name="Ada", email="ada@uni.example"))
    db.session.commit()
    oidc_provider.person("ada-unverified", email="ADA@uni.example", email_verified=False)
    oidc_provider.person("ada", email="ada@uni.example", email_verified=True, name="Ada L")

    sign_in_with_test_client(people_app.test_client(), oidc_provider, "ada-unverified")
    sign_in_with_test_client(people_app.test_client(), oidc_provider, "ada")

    people = {p.oidc_subject: p for p in accounts(db)}
    assert set(people) == {"ada-unverified", "ada"}
    assert people["ada"].id == existing.id and people["ada"].name == "Ada L"
    assert people["ada-unverified"].id != existing.id
    linked = db.session.scalars(select(AccountEvent).where(AccountEvent.action == "linked")).all()
    assert [(e.user_id, e.channel) for e in linked] == [(existing.id, "sign-in")]


def test_email_and_name_follow_the_provider(people_app, oidc_provider, db):
    oidc_provider.person("grace", email="grace@uni.example", email_verified=True, name="Grace")
    sign_in_with_test_client(people_app.test_client(), oidc_provider, "grace")
    oidc_provider.person("grace", email="g.hopper@navy.example", email_verified=True, name="G H")

    sign_in_with_test_client(people_app.test_client(), oidc_provider, "grace")

    (grace,) = accounts(db)
    assert (grace.email, grace.name) == ("g.hopper@navy.example", "G H")


def test_sign_out_needs_the_form_token_and_ends_at_the_provider(people_app, oidc_provider, db):
    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True)
    client = people_app.test_client()
    sign_in_with_test_client(client, oidc_provider, "boss")

    forged = client.post("/logout")
    still_in = client.get("/admin/users").status_code
    signed_out = post_form(client, "/logout", page="/admin/users")

    assert forged.status_code == 400
    assert still_in == 200
    assert signed_out.status_code == 303
    end = signed_out.headers["Location"]
    assert end.startswith(f"{oidc_provider.issuer}/oauth2/end_session?")
    assert query(end)["post_logout_redirect_uri"] == "http://127.0.0.1:5000/"
    assert client.get("/admin/users").headers["Location"] == "/login?next=%2Fadmin%2Fusers"


def test_the_session_is_new_after_sign_in(people_app, oidc_provider, db):
    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True)
    client = people_app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    planted = client.get_cookie("wps_session").value

    sign_in_with_test_client(client, oidc_provider, "boss")

    with client.session_transaction() as session:
        assert "planted" not in session
    cookie = client.get_cookie("wps_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert cookie.value != planted  # a new session id (ADR 0019); the planted one is gone


def test_sign_in_callbacks_are_rate_limited(identity_app, db, instance_path, oidc_provider):
    from app.extensions import limiter

    app = identity_app(instance_path, oidc_provider, sign_in_rate_limit="2 per minute")
    client = app.test_client()
    with app.app_context():
        limiter.reset()

    statuses = [client.get("/login/callback?code=x&state=y").status_code for _ in range(3)]

    assert statuses == [403, 403, 429]
    with app.app_context():
        limiter.reset()


def test_a_provider_that_cannot_be_reached_is_a_503_page(identity_app, db, instance_path):
    from tests.support.live_service import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    app = identity_app(instance_path, None, oidc_issuer=closed, oidc_client_id="wps")

    response = app.test_client().get("/login")

    assert response.status_code == 503
    assert "cannot be reached" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_only_the_newest_started_sign_in_counts(people_app, oidc_provider, db):
    oidc_provider.person("grace", email="grace@uni.example", email_verified=True)
    client = people_app.test_client()
    first = client.get("/login")
    for _ in range(5):
        latest = client.get("/login")

    stale = client.get(local_path(oidc_provider.approve(first.headers["Location"], "grace")))
    fresh = client.get(local_path(oidc_provider.approve(latest.headers["Location"], "grace")))

    assert stale.status_code == 403
    assert fresh.status_code == 303
    with client.session_transaction() as session:
        assert not [key for key in session if key.startswith("_state_")]


def test_the_first_admin_is_made_once_and_the_operators_are_told(
    people_app, oidc_provider, webhook, db
):
    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True, name="Bo Boss")
    oidc_provider.person("boss-again", email=INITIAL_ADMIN, email_verified=True, name="Bo 2")

    sign_in_with_test_client(people_app.test_client(), oidc_provider, "boss")
    second = people_app.test_client()
    sign_in_with_test_client(second, oidc_provider, "boss-again")

    people = {p.oidc_subject: p for p in accounts(db)}
    assert (people["boss"].status, people["boss"].role) == ("active", "admin")
    assert (people["boss-again"].status, people["boss-again"].role) == ("pending", "researcher")
    assert second.get("/admin/users").status_code == 403
    told, pending = webhook.texts
    assert "first admin" in told and INITIAL_ADMIN in told and "INITIAL_ADMIN_EMAIL" in told
    assert "awaiting approval" in pending
    (event,) = db.session.scalars(
        select(AccountEvent).where(AccountEvent.actor == "configuration:INITIAL_ADMIN_EMAIL")
    ).all()
    assert (event.user_id, event.action, event.channel) == (
        people["boss"].id,
        "approved",
        "sign-in",
    )


def test_a_disabled_first_admin_does_not_come_back_through_another_subject(
    people_app, oidc_provider, webhook, db
):
    from tests.support.people import sign_in_with_role

    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True)
    sign_in_with_test_client(people_app.test_client(), oidc_provider, "boss")
    grace = people_app.test_client()
    sign_in_with_role(grace, oidc_provider, "grace", "admin")
    boss = next(p for p in accounts(db) if p.oidc_subject == "boss")
    disabled = post_form(grace, f"/admin/users/{boss.id}/disable", page="/admin/users")
    oidc_provider.person("boss-new", email=INITIAL_ADMIN, email_verified=True)

    comeback = people_app.test_client()
    sign_in_with_test_client(comeback, oidc_provider, "boss-new", next_path="/admin/users")

    assert disabled.status_code == 303
    people = {p.oidc_subject: p for p in accounts(db)}
    assert people["boss"].status == "disabled"
    assert (people["boss-new"].status, people["boss-new"].role) == ("pending", "researcher")
    assert comeback.get("/admin/users").status_code == 403
    assert "awaiting approval" in webhook.texts[-1]


def test_no_first_admin_once_an_operator_made_one(people_app, oidc_provider, db):
    from tests.support.people import sign_in_with_role

    sign_in_with_role(people_app.test_client(), oidc_provider, "kj", "admin")
    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True)

    sign_in_with_test_client(people_app.test_client(), oidc_provider, "boss")

    boss = next(p for p in accounts(db) if p.oidc_subject == "boss")
    assert (boss.status, boss.role) == ("pending", "researcher")


def callback_statuses(client, forwarded_for: str | None, count: int) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return [
        client.get("/login/callback?code=x&state=y", headers=headers).status_code
        for _ in range(count)
    ]


def test_behind_one_proxy_each_client_has_its_own_sign_in_bucket(
    identity_app, db, instance_path, oidc_provider
):
    from app.extensions import limiter

    app = identity_app(
        instance_path, oidc_provider, sign_in_rate_limit="2 per minute", trusted_proxy_hops=1
    )
    client = app.test_client()  # every request comes from the proxy's one address
    with app.app_context():
        limiter.reset()

    noisy = callback_statuses(client, "203.0.113.7", 3)
    other = callback_statuses(client, "198.51.100.9", 2)

    assert noisy == [403, 403, 429]
    assert other == [403, 403]
    with app.app_context():
        limiter.reset()


def test_without_a_trusted_proxy_a_forwarded_for_header_does_not_escape_the_bucket(
    identity_app, db, instance_path, oidc_provider
):
    from app.extensions import limiter

    app = identity_app(instance_path, oidc_provider, sign_in_rate_limit="2 per minute")
    client = app.test_client()
    with app.app_context():
        limiter.reset()

    spent = callback_statuses(client, None, 2)
    spoofed = callback_statuses(client, "198.51.100.1", 1) + callback_statuses(
        client, "198.51.100.2", 1
    )

    assert spent == [403, 403]
    assert spoofed == [429, 429]
    with app.app_context():
        limiter.reset()
