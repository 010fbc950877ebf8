"""The browser suite: ONE live server, ONE OpenID provider, ONE Chromium per test session.

The server is gunicorn on PostgreSQL (Celery eager), the provider is the identity
feature's `oidc-provider-mock` process, and the browser is Debian's Chromium
driven by Playwright for Python (no browser download). Each test gets fresh
browser contexts (separate cookie jars: separate people), which cost
milliseconds; the expensive processes are started once.

Screenshots of the main pages are written when WPS_SCREENSHOTS is set to a
folder (`invoke screenshots` writes docs/screenshots/).
"""

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.accounts.models import User, UserStatus
from tests.support.live_service import free_port, live_service
from tests.support.secrets_seen import remember

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ADMIN_EMAIL = "admin@uni.example"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(item.fspath).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@dataclass
class Portal:
    """The live service as a browser meets it."""

    base_url: str
    provider: object

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture(scope="session")
def portal(app, instance_path, oidc_provider, tmp_path_factory):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = oidc_provider.settings() | {
        "public_base_url": base_url,
        "celery_always_eager": True,
        "initial_admin_email": ADMIN_EMAIL,
        "sign_in_rate_limit": "1000 per minute",
    }
    with live_service(instance_path, port, tmp_path_factory.mktemp("browser-logs"), **settings):
        yield Portal(base_url, oidc_provider)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


_DOCUMENT_STATUS = re.compile(
    r"Failed to load resource: the server responded with a status of 4\d\d"
)


@dataclass
class Watch:
    """What went wrong on a page that a person would not see at once."""

    base_url: str
    problems: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message) -> None:
        # Chromium logs a document answered with 4xx as a console error; the tests
        # check those statuses themselves.
        if message.type == "error" and not _DOCUMENT_STATUS.match(message.text):
            self.problems.append(f"console error: {message.text}")

    def _failed(self, request) -> None:
        # Leaving a page cancels what it still loads (net::ERR_ABORTED): not a failure.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response) -> None:
        # The document's own status is the test's business; its sub-resources must load.
        if response.request.resource_type != "document" and response.status >= 400:
            self.problems.append(f"{response.status} for {response.url}")
        if not response.url.startswith(self.base_url) and response.request.resource_type != (
            "document"
        ):
            self.problems.append(f"loaded from another site: {response.url}")

    def take(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems


@pytest.fixture
def browse(browser, portal, db):
    """Open a fresh browser context (a separate person): `page, watch = browse()`."""
    contexts = []

    def open_context(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport, base_url=portal.base_url)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=portal.base_url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        watch = Watch(portal.base_url)
        watch.attach(page)
        return page, watch

    yield open_context
    for context in contexts:
        context.close()


def sign_in_through_provider(page, portal: Portal, sub: str, email: str, name: str) -> None:
    """Sign in as a person does: the service sends the browser to the provider, where the
    person is chosen, and the provider sends it back."""
    portal.provider.person(sub, email=email, email_verified=True, name=name)
    page.goto("/login?next=/")
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()
    # Past the callback: on the page the service sends the person to.
    page.wait_for_url(lambda url: url.startswith(portal.base_url) and "/login" not in url)


def sign_in_as(page, portal: Portal, role: str, db, name: str | None = None) -> User:
    """An active person with `role`, signed in through the provider in this browser.

    The approval itself is walked through the admin page in test_walk.py; other tests
    accept the account directly, as an admin would.
    """
    name = name or f"{role.title()} Person"
    sub = f"{role}-{os.urandom(4).hex()}"
    email = ADMIN_EMAIL if role == "admin" else f"{sub}@uni.example"
    sign_in_through_provider(page, portal, sub, email, name)
    db.session.rollback()
    person = db.session.scalars(select(User).where(User.oidc_subject == sub)).one()
    if role != "admin":
        person.status, person.role = UserStatus.ACTIVE.value, role
        db.session.commit()
    enrol_second_factor(page)
    return person


def enrol_second_factor(page, screenshots=None) -> str:
    """Set up TOTP as a person does, with the key shown on the page typed into an
    authenticator (pyotp here); the session is then fully authenticated."""
    page.goto("/second-factor/setup")
    secret = remember(page.locator("#totp-secret").inner_text().strip())
    shoot(page, screenshots, "second-factor-setup")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("h1")).to_have_text("Your recovery codes")
    for code in page.locator("#recovery-codes code").all_inner_texts():
        remember(code)
    shoot(page, screenshots, "second-factor-recovery-codes")
    return secret


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="session")
def screenshots():
    """Where to write screenshots (WPS_SCREENSHOTS), or None: the suite then takes none."""
    folder = os.environ.get("WPS_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def shoot(page, folder: Path | None, name: str) -> None:
    """Desktop and phone screenshots of the page as it is now."""
    if folder is None:
        return
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(folder / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(size)
