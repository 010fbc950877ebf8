"""Every page a person can reach from `/`, per role, in a real browser.

Each page answers 200, has exactly one h1, logs no console error and loads every
sub-resource; pages of other roles answer a friendly 403; anonymous visitors are
sent to sign in. Screenshots of the main pages come from here too.
"""

from collections import deque
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app.feeds.models import EventStatus, InboxEvent
from app.jobs import services as jobs
from app.jobs.models import Operation
from tests.browser.conftest import PHONE, path_of, shoot, sign_in_as, sign_in_through_provider
from tests.support.factories import ApplicationKeyFactory, create_dataset, create_upload_box, grant

#: Links that leave the pages or change state when followed.
NOT_CRAWLED = ("/logout", "/login", "/openapi.json")
#: Linked pages that are not the portal's (Swagger UI): they must load cleanly, but
#: their headings are theirs and their links are not followed.
NOT_PORTAL = ("/apidocs",)
ROLE_PAGES = {
    "researcher": {"/", "/catalog", "/my-access", "/my-work-packages", "/profile"},
    "steward": {
        "/steward/access-requests",
        "/steward/grants",
        "/steward/catalog",
        "/steward/events",
    },
    "admin": {"/admin/users", "/admin/operations", "/admin/keys"},
}
EXPECTED = {
    "researcher": ROLE_PAGES["researcher"],
    "steward": ROLE_PAGES["researcher"] | ROLE_PAGES["steward"],
    "admin": ROLE_PAGES["researcher"] | ROLE_PAGES["steward"] | ROLE_PAGES["admin"],
}


#: Elements reaching past the right edge of the screen, outside scrollable tables.
WIDER_THAN_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > width + 1)
    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
              + ' ' + Math.round(e.getBoundingClientRect().right) + 'px');
}"""


def something_to_operate(db) -> None:
    """A dead event, a job and an application, so the admin pages show what they are for."""
    db.session.add(
        InboxEvent(
            event_id="evt-2026-11-26-0042",
            topic="metadata-datasets",
            type="dataset_upserted",
            key="GHGAD00000000009",
            payload={"accession": "GHGAD00000000009"},
            status=EventStatus.DEAD.value,
            attempts=5,
            last_error="payload: field 'files' is required",
            received_from="application:metadata feed",
        )
    )
    db.session.commit()
    jobs.record(Operation.SWEEP, "work-packages", "system", "expired work packages removed")
    db.session.commit()
    ApplicationKeyFactory(name="metadata feed", permissions=("FEED_PUBLISHER",))


@pytest.fixture
def catalog_with_data(db):
    create_dataset("GHGAD00000000007", files=3)
    create_dataset("GHGAD00000000008", files=1)
    return create_upload_box(title="Cohort 2026 submissions")


def crawl(page, watch, portal) -> dict[str, int]:
    """Breadth-first over same-site links from `/`: {path: status}."""
    watch.take()  # the provider's own page (signing in) is not ours to judge
    seen: dict[str, int] = {}
    queue = deque(["/"])
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        response = page.goto(path)
        seen[path] = response.status
        assert response.status == 200, f"{path} answered {response.status}"
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        if path.startswith(NOT_PORTAL):
            page.wait_for_load_state("networkidle")
            assert not watch.problems, f"{path}: {watch.take()}"
            continue
        assert page.locator("h1").count() == 1, f"{path} has {page.locator('h1').count()} h1"
        assert page.title(), f"{path} has no title"
        problems = watch.take()
        assert not problems, f"{path}: {problems}"
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            if parts.netloc != urlsplit(portal.base_url).netloc or parts.scheme not in (
                "http",
                "https",
            ):
                continue
            target = path_of(href.split("#")[0])
            if not target.startswith(NOT_CRAWLED) and target not in seen:
                queue.append(target)
    return seen


@pytest.mark.parametrize("role", ["researcher", "steward", "admin"])
def test_every_page_reachable_from_home_works(browse, portal, db, catalog_with_data, role):
    page, watch = browse()
    person = sign_in_as(page, portal, role, db)
    grant(person.id, dataset="GHGAD00000000007")
    grant(person.id, box=catalog_with_data.id)

    seen = crawl(page, watch, portal)

    reached = {urlsplit(path).path for path in seen}
    assert EXPECTED[role] <= reached, EXPECTED[role] - reached
    others = set().union(*ROLE_PAGES.values()) - EXPECTED[role]
    assert not reached & others, f"a {role} reached {reached & others}"


@pytest.mark.parametrize("role", ["researcher", "steward"])
def test_pages_of_other_roles_answer_a_friendly_403(browse, portal, db, role):
    page, watch = browse()
    sign_in_as(page, portal, role, db)
    watch.take()
    for path in sorted(set().union(*ROLE_PAGES.values()) - EXPECTED[role]):
        response = page.goto(path)
        assert response.status == 403, path
        assert page.locator("h1").inner_text() == "Not allowed"
        assert page.get_by_role("link", name="Back to the start page").is_visible()
    assert watch.take() == []


def test_anonymous_visitors_are_sent_to_sign_in(browse, portal):
    page, _ = browse()
    portal.provider.person("newcomer", email="new@uni.example", email_verified=True)
    page.goto("/catalog?q=exome")
    assert page.url.startswith(portal.provider.issuer)  # /login sent it on to the provider
    page.fill("input[name=sub]", "newcomer")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{portal.base_url}/account/status")  # pending: not yet in the catalog


def test_main_pages_on_a_phone(browse, portal, db, catalog_with_data, screenshots):
    """Readable at phone width: nothing wider than the screen; screenshots of each page."""
    page, watch = browse(viewport=PHONE)
    person = sign_in_as(page, portal, "admin", db, name="Grace Hopper")
    grant(person.id, dataset="GHGAD00000000007")
    something_to_operate(db)
    watch.take()
    pages = {
        "home": "/",
        "catalog": "/catalog",
        "dataset-granted": "/catalog/GHGAD00000000007",
        "work-packages-form": "/my-work-packages",
        "profile": "/profile",
        "steward-grants": "/steward/grants",
        "steward-catalog": "/steward/catalog",
        "admin-operations": "/admin/operations",
        "admin-keys": "/admin/keys",
    }
    for name, path in pages.items():
        page.goto(path)
        too_wide = page.evaluate(WIDER_THAN_SCREEN)
        assert not too_wide, f"{path} is wider than a phone screen: {too_wide}"
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
        page.set_viewport_size({"width": 1280, "height": 860})
        shoot(page, screenshots, name)
        page.set_viewport_size(PHONE)
    assert watch.take() == []


#: What a 4xx page must offer besides the navigation: a link or button in the page itself.
WAY_FORWARD = "main a[href], main button"


def crawl_for_dead_ends(page, watch, portal) -> dict[str, int]:
    """Breadth-first from `/` over same-site links: {path: status}; fails on a page
    (4xx ones included) that offers no link or button forward in its content."""
    watch.take()
    seen: dict[str, int] = {}
    queue = deque(["/"])
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        response = page.goto(path)
        seen[path] = response.status
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        if path.startswith(NOT_PORTAL):
            continue
        assert page.locator(WAY_FORWARD).count() > 0, f"{path} ({response.status}) is a dead end"
        if response.status >= 400:
            continue
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            if parts.netloc != urlsplit(portal.base_url).netloc:
                continue
            target = path_of(href.split("#")[0])
            if not target.startswith(NOT_CRAWLED) and target not in seen:
                queue.append(target)
    return seen


@pytest.mark.parametrize("role", ["researcher", "steward", "admin"])
def test_with_the_defaults_no_page_is_a_dead_end(
    browse, portal, db, catalog_with_data, role, screenshots
):
    """The second factor set up but not passed in this session (a new sign-in), as after
    every sign-in with the default settings: every page, the refusals too, leads on."""
    first, _ = browse()
    person = sign_in_as(first, portal, role, db)
    grant(person.id, dataset="GHGAD00000000007")
    page, watch = browse()
    sign_in_through_provider(page, portal, person.oidc_subject, person.email, person.name)

    seen = crawl_for_dead_ends(page, watch, portal)
    assert all(status < 500 for status in seen.values()), seen

    # The refusals a person meets: another role's page, a missing page, a form sent
    # before the factor; each says what to do and links to it.
    if role != "admin":
        response = page.goto("/admin/users")
        assert response.status == 403
        expect(page.get_by_role("link", name="Back to the start page")).to_be_visible()
    response = first.goto("/catalog/GHGAD99999999999")  # (the factor passed there)
    assert response.status == 404
    assert first.locator(WAY_FORWARD).count() > 0
    page.goto("/profile")
    page.get_by_role("button", name="Create API token").click()
    expect(page.locator("h1")).to_have_text("Your second factor first")
    if role == "researcher":
        shoot(page, screenshots, "second-factor-first-error")
    page.get_by_role("link", name="Enter your code").click()
    expect(page.locator("h1")).to_have_text("Enter your code")
    assert "next=%2Fprofile" in page.url or "next=/profile" in page.url
    # A form sent with input it refuses answers 422: the form again, what was wrong in
    # a sentence, and the way on (the factor passed in `first`).
    first.goto("/profile")
    first.get_by_label("Public key").fill("not a key")
    with first.expect_response(lambda r: r.request.method == "POST") as sent:
        first.get_by_role("button", name="Save key").click()
    assert sent.value.status == 422
    expect(first.locator("#crypt4gh-key .error-message").first).to_be_visible()
    assert first.locator(WAY_FORWARD).count() > 0
