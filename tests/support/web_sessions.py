"""Signing people in with the Flask test client, and reading pages as a person would.

The browser suite (tests/browser/) signs in through the real OpenID provider;
these helpers let page tests stay fast by starting a server-side session directly
(app.web_sessions) and handing its cookie to the test client.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser

from flask import g, has_app_context
from flask.testing import FlaskClient

from app.accounts.models import User
from app.extensions import db
from app.web_sessions.services import start_session

SESSION_COOKIE = "wps_session"


class PersonClient(FlaskClient):
    """A test client that behaves like a separate browser.

    Tests hold one app context across requests, so what Flask-WTF and the session
    helpers cache on `g` per request would leak between clients: drop it first.
    """

    def open(self, *args, **kwargs):
        # A client used from a thread of its own (tests/test_second_factor_races.py)
        # has no context to leak from.
        if has_app_context():
            for name in ("csrf_token", "person"):
                g.pop(name, None)
        return super().open(*args, **kwargs)


def browser_client(app) -> PersonClient:
    app.test_client_class = PersonClient
    return app.test_client()


def sign_in(client, person: User, second_factor: bool = True) -> None:
    """Signed in as after the provider and, with `second_factor`, after the person's code
    (tests/test_second_factor.py passes it through the real pages).

    The session is a row made by the service's own code; the client gets its cookie.
    """
    session_id = start_session(person.id, datetime.now(UTC) if second_factor else None)
    db.session.commit()
    client.set_cookie(SESSION_COOKIE, session_id)


@dataclass
class Page:
    """What a person sees on a page: title, headings, text, and its forms' hidden values."""

    title: str = ""
    h1: list[str] = field(default_factory=list)
    text: str = ""
    inputs: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)

    def contains(self, words: str) -> bool:
        return " ".join(words.split()) in self.text


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.page = Page()
        self.stack: list[tuple[str, str | None]] = []
        self.parts: list[str] = []
        self.captures: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.page.inputs.setdefault(attrs["name"], attrs.get("value") or "")
        if tag == "a" and attrs.get("href"):
            self.page.links.append(attrs["href"])
        if tag in ("input", "meta", "link", "br", "img"):
            return
        self.stack.append((tag, attrs.get("id")))
        if attrs.get("id"):
            self.captures[attrs["id"]] = []
        if tag == "h1":
            self.captures["\0h1"] = []

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, open_id = self.stack.pop()
            if open_id:
                self.page.ids[open_id] = "".join(self.captures.pop(open_id, [])).strip()
            if open_tag == "h1":
                self.page.h1.append(" ".join("".join(self.captures.pop("\0h1", [])).split()))
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] == "title":
            self.page.title += data
        if any(tag in ("script", "style") for tag, _ in self.stack):
            return
        self.parts.append(data)
        for capture in self.captures.values():
            capture.append(data)


def read_page(response) -> Page:
    reader = _Reader()
    reader.feed(response.get_data(as_text=True))
    reader.page.text = " ".join(" ".join(reader.parts).split())
    reader.page.title = reader.page.title.strip()
    return reader.page


def submit(client, page_url: str, action: str, data: dict | None = None, **options):
    """POST a form the way a browser does: with the CSRF token of the page it is on."""
    page = read_page(client.get(page_url))
    assert "csrf_token" in page.inputs, f"no form with a CSRF token on {page_url}"
    return client.post(
        action, data={"csrf_token": page.inputs["csrf_token"]} | (data or {}), **options
    )


def only_h1(response) -> str:
    page = read_page(response)
    assert len(page.h1) == 1, f"expected one h1, found {page.h1}"
    return page.h1[0]


TOKEN_LINE = re.compile(r"^([0-9a-f-]{36}):([A-Za-z0-9+/=]+)$")
