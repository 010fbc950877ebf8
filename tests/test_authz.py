"""Who may act, in one table: every kind of caller against representative doors.

The JSON API admits application keys and people's internal tokens (a role counts
only after the second factor); the pages admit browser sessions (the same). The
answers (status and error code) are what clients and the portal rely on. The
navigation shows each role exactly the pages its permissions open.
"""

import re
from uuid import uuid4

import pytest

from app.accounts import credentials
from app.accounts.models import UserStatus
from app.extensions import db
from tests.support.factories import ApplicationKeyFactory
from tests.support.people import make_person
from tests.support.users import Researcher
from tests.support.web_sessions import browser_client, read_page, sign_in

# --- The JSON API ------------------------------------------------------------------


def _key(*permissions):
    return {"Workflow-API-Key": ApplicationKeyFactory(permissions=permissions).key}


def _token(app, person, second_factor=True):
    caller = Researcher(app, id=person.id, email=person.email, second_factor=second_factor)
    return {"Authorization": f"Bearer {caller.token()}"}


def _cut_off_token(app):
    person = make_person(name="Cut Off", role="steward")
    headers = _token(app, person)
    credentials.cut_off(person, "test", "operator:test")
    db.session.commit()
    return headers


def _disabled_token(app):
    return _token(app, make_person(name="Dis Abled", role="steward", status=UserStatus.DISABLED))


CALLERS = {
    "admin key": lambda app: _key("ADMIN"),
    "steward key": lambda app: _key("DATA_STEWARD"),
    "publisher key": lambda app: _key("FEED_PUBLISHER"),
    "steward token": lambda app: _token(app, make_person(name="Sam Steward", role="steward")),
    "steward token before 2FA": lambda app: _token(
        app, make_person(name="Sam Early", role="steward"), second_factor=False
    ),
    "researcher token": lambda app: _token(app, make_person(name="Ada Researcher")),
    "disabled person's token": _disabled_token,
    "cut-off token": _cut_off_token,
    "nobody": lambda app: {},
}

OK = (200, None)
NO_KEY_PERMISSION = (403, "permission_denied")
NO_ROLE = (403, "role_required")
NO_SECOND_FACTOR = (403, "second_factor_required")
CUT_OFF = (401, "credentials_reset")

# The door of each endpoint: actor_required (/users, /access-requests),
# permissions_required (/datasets, /events) and the IVA door (/users/{id}/ivas).
API_TABLE = {
    "GET /users": {
        "admin key": OK,
        "steward key": NO_KEY_PERMISSION,
        "publisher key": NO_KEY_PERMISSION,
        "steward token": NO_ROLE,
        "steward token before 2FA": NO_SECOND_FACTOR,
        "researcher token": NO_ROLE,
        "disabled person's token": NO_ROLE,
        "cut-off token": CUT_OFF,
        "nobody": (401, "not_authenticated"),
    },
    "GET /access-requests": {
        "admin key": OK,
        "steward key": OK,
        "publisher key": NO_KEY_PERMISSION,
        "steward token": OK,
        "steward token before 2FA": NO_SECOND_FACTOR,
        "researcher token": NO_ROLE,
        "disabled person's token": NO_ROLE,
        "cut-off token": CUT_OFF,
        "nobody": (401, "not_authenticated"),
    },
    "GET /datasets": {
        "admin key": OK,
        "steward key": OK,
        "publisher key": NO_KEY_PERMISSION,
        "steward token": OK,
        "steward token before 2FA": NO_SECOND_FACTOR,
        "researcher token": NO_KEY_PERMISSION,
        "disabled person's token": NO_KEY_PERMISSION,
        "cut-off token": CUT_OFF,
        "nobody": (401, "invalid_api_key"),
    },
    "GET /events": {
        "admin key": OK,
        "steward key": OK,
        "publisher key": OK,
        "steward token": OK,
        "steward token before 2FA": NO_SECOND_FACTOR,
        "researcher token": NO_KEY_PERMISSION,
        "disabled person's token": NO_KEY_PERMISSION,
        "cut-off token": CUT_OFF,
        "nobody": (401, "invalid_api_key"),
    },
    "GET /users/{someone else}/ivas": {
        "admin key": OK,
        "steward key": OK,
        "publisher key": NO_KEY_PERMISSION,
        "steward token": OK,
        "steward token before 2FA": NO_SECOND_FACTOR,
        "researcher token": (403, "steward_required"),
        "disabled person's token": (403, "account_not_active"),
        "cut-off token": CUT_OFF,
        "nobody": (401, "not_authenticated"),
    },
}


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("endpoint", list(API_TABLE))
def test_who_may_call_the_api(app, client, caller, endpoint):
    headers = CALLERS[caller](app)
    method, path = endpoint.split(" ", 1)
    path = path.replace("{someone else}", str(uuid4()))

    response = client.open(path, method=method, headers=headers)

    expected_status, expected_code = API_TABLE[endpoint][caller]
    assert response.status_code == expected_status, (caller, endpoint, response.json)
    if expected_code:
        assert response.json["code"] == expected_code, (caller, endpoint, response.json)


@pytest.mark.parametrize("second_factor", [True, False])
def test_people_see_their_own_addresses_with_any_token(app, client, second_factor):
    researcher = make_person(name="Ada Own")
    headers = _token(app, researcher, second_factor=second_factor)

    response = client.get(f"/users/{researcher.id}/ivas", headers=headers)

    assert response.status_code == 200, response.json


# --- The pages -----------------------------------------------------------------------

SESSIONS = {
    "steward session": ("steward", True),
    "steward session before 2FA": ("steward", False),
    "researcher session": ("researcher", True),
    "admin session": ("admin", True),
}

PAGE_TABLE = {
    "/steward/grants": {
        "steward session": 200,
        "steward session before 2FA": "second factor",
        "researcher session": 403,
        "admin session": 200,
    },
    "/steward/verification-addresses": {
        "steward session": 200,
        "steward session before 2FA": "second factor",
        "researcher session": 403,
        "admin session": 200,
    },
    "/admin/keys": {
        "steward session": 403,
        "steward session before 2FA": 403,
        "researcher session": 403,
        "admin session": 200,
    },
    "/catalog": {
        "steward session": 200,
        "steward session before 2FA": 200,
        "researcher session": 200,
        "admin session": 200,
    },
}


@pytest.mark.parametrize("session", list(SESSIONS))
@pytest.mark.parametrize("page", list(PAGE_TABLE))
def test_who_may_open_a_page(app, db, session, page):
    role, second_factor = SESSIONS[session]
    browser = browser_client(app)
    sign_in(browser, make_person(name=f"{role.title()} Person", role=role), second_factor)

    response = browser.get(page)

    expected = PAGE_TABLE[page][session]
    if expected == "second factor":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/second-factor/verify?next=")
    else:
        assert response.status_code == expected, (session, page)


def test_a_form_sent_before_the_second_factor_is_refused(app, db):
    browser = browser_client(app)
    sign_in(browser, make_person(name="Sam Form", role="steward"), second_factor=False)
    token = read_page(browser.get("/profile")).inputs["csrf_token"]

    response = browser.post(f"/steward/grants/{uuid4()}/revoke", data={"csrf_token": token})

    assert response.status_code == 403
    assert "second factor" in response.get_data(as_text=True)


def _navigation(browser) -> list[str]:
    """The links of the navigation bar on the home page."""
    html = browser.get("/").get_data(as_text=True)
    nav = html[html.index('<nav class="site-nav"') : html.index("</nav>")]
    return re.findall(r'href="([^"]+)"', nav)


def test_each_role_sees_exactly_the_pages_its_permissions_open(app, db):
    browsers = {}
    for role in ("researcher", "steward", "admin"):
        browsers[role] = browser_client(app)
        sign_in(browsers[role], make_person(name=f"{role.title()} Nav", role=role))
    every_link = set(_navigation(browsers["admin"]))
    assert {"/steward/grants", "/admin/keys", "/catalog"} <= every_link

    for role, browser in browsers.items():
        shown = set(_navigation(browser))
        for link in sorted(every_link):
            status = browser.get(link).status_code
            assert status == (200 if link in shown else 403), (role, link, status)
    assert "/steward/events" in _navigation(browsers["steward"])
    assert "/admin/keys" not in _navigation(browsers["steward"])


def test_a_steward_before_the_second_factor_sees_the_steward_links(app, db):
    # The link shows; following it asks for the code (the page's door, not the menu).
    browser = browser_client(app)
    sign_in(browser, make_person(name="Sam Menu", role="steward"), second_factor=False)

    links = _navigation(browser)

    assert "/steward/grants" in links and "/admin/keys" not in links
