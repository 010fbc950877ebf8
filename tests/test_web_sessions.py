"""Browser sessions that end: server-side rows, an opaque cookie, timeouts, rotation.

Each story runs on PostgreSQL and on the embedded default (SQLite in a tmp folder),
against the real app: the cookie a browser holds is copied into a second test
client, as a thief with a copy of it would use it.
"""

import re
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import delete, select

from app import create_app
from app.accounts.models import AccountEvent, RefreshToken, User
from app.database import utc_now
from app.extensions import db
from tests.conftest import make_settings
from tests.support.oidc_provider import local_path, sign_in_with_test_client
from tests.support.people import INITIAL_ADMIN, make_person
from tests.support.secrets_seen import remember
from tests.support.web_sessions import browser_client, read_page, sign_in, submit

COOKIE = "wps_session"
OPAQUE = re.compile(r"[A-Za-z0-9_-]{43}")
REFRESH_TOKEN = re.compile(r"(wpsrt_[A-Za-z0-9_-]+)")


@pytest.fixture(params=["postgresql", "sqlite"])
def site(request, tmp_path):
    """Makes the app on this test's database: `site(**settings)`."""
    made = []

    def make(**overrides):
        if request.param == "sqlite":
            overrides = {
                "sqlalchemy_database_uri": f"sqlite:///{tmp_path / 'wps.sqlite'}",
                "celery_broker_url": None,
                "celery_always_eager": None,
            } | overrides
        else:
            request.getfixturevalue("db")  # emptied after the test
        app = create_app(make_settings(tmp_path / f"instance-{len(made)}", **overrides))
        made.append(app)
        if request.param == "sqlite" and len(made) == 1:
            with app.app_context():
                upgrade()
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app_(site):
    """The service as configured by default (second factor required)."""
    app = site()
    with app.app_context():
        yield app


def cookie_of(client) -> str:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else ""


def copy_of(app, client):
    """A second browser holding a copy of `client`'s session cookie."""
    thief = browser_client(app)
    thief.set_cookie(COOKIE, cookie_of(client))
    return thief


def rows(**where):
    from app.web_sessions.models import WebSession

    db.session.rollback()
    return db.session.scalars(select(WebSession).filter_by(**where)).all()


def age_sessions(**seconds):
    """Move every stored session's clocks back, e.g. `age_sessions(last_seen_at=61)`."""
    for row in rows():
        for column, back in seconds.items():
            setattr(row, column, getattr(row, column) - timedelta(seconds=back))
    db.session.commit()


def signed_in_browser(app, person=None, **options):
    person = person or make_person()
    client = browser_client(app)
    sign_in(client, person, **options)
    return client, person


def test_a_cookie_copied_before_sign_out_opens_nothing_and_makes_no_api_token(app_):
    ada, person = signed_in_browser(app_)
    thief = copy_of(app_, ada)
    form_token = read_page(thief.get("/profile")).inputs["csrf_token"]

    signed_out = submit(ada, "/profile", "/logout")
    page = thief.get("/profile")
    token = thief.post("/profile/api-tokens", data={"csrf_token": form_token})

    assert signed_out.status_code == 303
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=%2Fprofile"
    assert token.status_code in (400, 403)
    assert not REFRESH_TOKEN.search(token.get_data(as_text=True))
    assert db.session.scalars(select(RefreshToken)).all() == []
    assert rows(user_id=person.id) == []


def test_an_idle_session_ends(app_):
    ada, _ = signed_in_browser(app_)
    assert ada.get("/profile").status_code == 200

    age_sessions(last_seen_at=app_.extensions["settings"].session_idle_timeout + 1)
    page = ada.get("/profile")

    assert page.status_code == 302 and page.headers["Location"] == "/login?next=%2Fprofile"
    assert rows() == []


def test_a_busy_session_still_ends_after_its_maximum_age(app_):
    ada, _ = signed_in_browser(app_)

    age_sessions(created_at=app_.extensions["settings"].session_max_age + 1)
    page = ada.get("/profile")

    assert page.status_code == 302 and page.headers["Location"] == "/login?next=%2Fprofile"


def test_last_seen_moves_on_about_once_a_minute_not_on_every_request(app_):
    ada, person = signed_in_browser(app_)
    ada.get("/profile")  # its forms' CSRF token is stored: a change, written at once
    (before,) = rows(user_id=person.id)
    first_seen = before.last_seen_at
    for _ in range(3):
        assert ada.get("/profile").status_code == 200
    (unchanged,) = rows(user_id=person.id)
    assert unchanged.last_seen_at == first_seen

    age_sessions(last_seen_at=61)
    aged = rows(user_id=person.id)[0].last_seen_at
    assert ada.get("/static/site.css").status_code == 200  # assets neither read nor write it
    assert rows(user_id=person.id)[0].last_seen_at == aged and cookie_of(ada)
    ada.get("/profile")
    (moved,) = rows(user_id=person.id)

    assert moved.last_seen_at > first_seen


def test_the_cookie_holds_an_opaque_id_and_no_person(app_):
    ada, person = signed_in_browser(app_)
    ada.get("/profile")

    value = cookie_of(ada)
    (row,) = rows(user_id=person.id)

    assert OPAQUE.fullmatch(value)
    assert person.id.hex not in value and str(person.id) not in value
    assert row.id_hash != value and len(row.id_hash) == 64  # only its SHA-256 is stored


def test_the_session_id_changes_after_the_second_factor(app_):
    from tests.support.second_factor_steps import enrol, pass_second_factor, signed_in

    person = make_person(role="steward")
    setup = browser_client(app_)
    signed_in(setup, person)
    secret, _ = enrol(setup)
    browser = browser_client(app_)
    signed_in(browser, person)
    before = cookie_of(browser)
    thief = copy_of(app_, browser)

    passed = pass_second_factor(browser, secret)

    assert passed.status_code in (302, 303)
    assert cookie_of(browser) != before and OPAQUE.fullmatch(cookie_of(browser))
    assert browser.get("/steward/verification-addresses").status_code == 200
    assert thief.get("/profile").headers["Location"] == "/login?next=%2Fprofile"


def test_the_profile_lists_both_browsers_and_signs_out_everywhere(app_):
    laptop, person = signed_in_browser(app_)
    phone, _ = signed_in_browser(app_, person)
    made = submit(phone, "/profile", "/profile/api-tokens")
    refresh_token = remember(REFRESH_TOKEN.search(made.get_data(as_text=True)).group(1))

    listed = read_page(laptop.get("/profile"))
    done = submit(laptop, "/profile", "/profile/sign-out-everywhere")
    landed = read_page(laptop.get(done.headers["Location"]))
    refreshed = phone.post("/token/refresh", json={"refresh_token": refresh_token})

    sessions = listed.ids["sessions"]
    assert sessions.count("UTC") == 4 and sessions.count("this browser") == 1
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert landed.contains(
        "You were signed out everywhere: 2 browser sessions ended and 1 API token revoked"
    )
    assert phone.get("/profile").headers["Location"] == "/login?next=%2Fprofile"
    assert laptop.get("/profile").headers["Location"] == "/login?next=%2Fprofile"
    assert refreshed.status_code == 401
    assert rows(user_id=person.id) == []
    event = db.session.scalars(select(AccountEvent).filter_by(user_id=person.id)).one()
    assert (event.action, event.actor, event.channel) == (
        "signed_out_everywhere",
        f"user:{person.id}",
        "web",
    )


def test_sign_out_everywhere_needs_the_form_token(app_):
    ada, person = signed_in_browser(app_)

    forged = ada.post("/profile/sign-out-everywhere")

    assert forged.status_code == 400
    assert ada.get("/profile").status_code == 200
    assert len(rows(user_id=person.id)) == 1


def test_ending_a_persons_sessions_can_spare_the_current_one(app_):
    from app.web_sessions.services import end_sessions

    laptop, person = signed_in_browser(app_)
    phone, _ = signed_in_browser(app_, person)
    other, _ = signed_in_browser(app_)

    with app_.test_request_context(headers={"Cookie": f"{COOKIE}={cookie_of(laptop)}"}):
        ended = end_sessions(person.id, except_current=True)
        db.session.commit()

    assert ended == 1
    assert laptop.get("/profile").status_code == 200
    assert phone.get("/profile").status_code == 302
    assert other.get("/profile").status_code == 200


def test_a_deleted_accounts_sessions_go_with_it(app_):
    ada, person = signed_in_browser(app_)

    db.session.execute(delete(User).where(User.id == person.id))
    db.session.commit()

    assert rows() == []
    assert ada.get("/profile").status_code == 302


def test_a_cookie_signed_with_the_secret_key_is_no_session_any_more(app_):
    """Flask's signed cookie (before this change) opens nothing: neither one issued
    then, nor one forged by whoever holds SECRET_KEY."""
    from flask.sessions import SecureCookieSessionInterface

    person = make_person()
    signed = SecureCookieSessionInterface().get_signing_serializer(app_)
    browser = browser_client(app_)
    browser.set_cookie(
        COOKIE,
        signed.dumps({"person_id": str(person.id), "signed_in_at": 0.0, "second_factor_at": 1e10}),
    )

    page = browser.get("/profile")

    assert page.status_code == 302 and page.headers["Location"] == "/login?next=%2Fprofile"


def test_the_sweep_deletes_only_timed_out_sessions(app_):
    signed_in_browser(app_)
    age_sessions(last_seen_at=app_.extensions["settings"].session_idle_timeout + 1)
    _, person = signed_in_browser(app_)

    swept = app_.extensions["celery"].tasks["web_sessions.sweep_expired"].delay().get()

    assert swept == 1
    assert [row.user_id for row in rows()] == [person.id]


# Signing in through the real OpenID provider.


@pytest.fixture
def provider_app(site, oidc_provider):
    app = site(
        require_second_factor=False,
        initial_admin_email=INITIAL_ADMIN.lower(),
        sign_in_rate_limit="1000 per minute",
        **oidc_provider.settings(),
    )
    with app.app_context():
        yield app


def test_the_sign_in_state_is_on_the_server_not_in_the_cookie(provider_app):
    browser = browser_client(provider_app)

    started = browser.get("/login?next=/catalog")

    assert started.status_code in (302, 303)
    assert OPAQUE.fullmatch(cookie_of(browser))
    (row,) = rows()
    assert row.user_id is None
    assert [key for key in row.data if key.startswith("_state_")]
    assert row.data["sign_in_next"] == "/catalog"


def test_the_session_id_changes_at_sign_in_and_the_old_one_is_dead(provider_app, oidc_provider):
    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True)
    browser = browser_client(provider_app)
    started = browser.get("/login")
    before = cookie_of(browser)
    thief = copy_of(provider_app, browser)

    landed = browser.get(local_path(oidc_provider.approve(started.headers["Location"], "boss")))

    (row,) = rows()  # the anonymous one went; nothing of it came along
    assert row.data == {} and row.auth_time is not None
    assert abs(row.created_at - utc_now()) < timedelta(minutes=1)
    assert landed.status_code == 303
    after = cookie_of(browser)
    assert OPAQUE.fullmatch(after) and after != before
    assert browser.get("/admin/users").status_code == 200
    assert thief.get("/admin/users").headers["Location"] == "/login?next=%2Fadmin%2Fusers"


def test_sign_out_through_the_provider_ends_the_server_session(provider_app, oidc_provider):
    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True)
    browser = browser_client(provider_app)
    sign_in_with_test_client(browser, oidc_provider, "boss")
    thief = copy_of(provider_app, browser)

    submit(browser, "/account/status", "/logout")

    assert thief.get("/admin/users").headers["Location"] == "/login?next=%2Fadmin%2Fusers"
    assert rows() == []


def test_sign_in_keeps_the_providers_auth_time_in_its_column(app_):
    from app.web.session import sign_in as start_session_of

    person = make_person()
    authenticated = utc_now() - timedelta(minutes=5)
    with app_.test_request_context():
        start_session_of(person, auth_time=authenticated, sign_in_method="test")
        app_.process_response(app_.response_class())  # saves the session as a request does

    (row,) = rows(user_id=person.id)
    assert abs(row.auth_time - authenticated) < timedelta(milliseconds=1)
    assert abs(row.created_at - utc_now()) < timedelta(minutes=1)
    assert row.data == {"sign_in_method": "test"}


def test_a_session_the_database_cannot_take_is_a_503_page_not_a_500(
    db, instance_path, oidc_provider
):
    """PostgreSQL goes away between the page and the writing of its session (a restart,
    as in `invoke chaos`): the person reads that nothing changed and to try again, with
    a 503 a balancer may retry, and no cookie for a session that was never stored."""
    from tests.support.database_gate import DatabaseGate

    with DatabaseGate() as gate:
        settings = make_settings(
            instance_path, sqlalchemy_database_uri=gate.url, **oidc_provider.settings()
        )
        client = create_app(settings).test_client()
        assert client.get("/").status_code == 200
        gate.cut()

        answer = client.get("/login")  # the sign-in's state is written to the session

    assert answer.status_code == 503, answer.text[:300]
    assert "text/html" in answer.content_type
    assert "Try again in a minute" in answer.text
    assert COOKIE not in answer.headers.get("Set-Cookie", "")
