"""People in the browser side: an app wired to the real provider, forms with their CSRF token."""

import re

from app import create_app
from tests.conftest import make_settings

INITIAL_ADMIN = "Boss@Uni.example"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def identity_app(instance_path, provider, **overrides):
    """The service signing people in through `provider` (None: no provider, development)."""
    settings = {
        # Sign-in, roles and approval are the subject here; the second factor on top
        # of them is tested in test_second_factor.py (development allows it off).
        "require_second_factor": False,
        "initial_admin_email": INITIAL_ADMIN.lower(),
        "sign_in_rate_limit": "1000 per minute",
        "signup_rate_limit": "1000 per minute",
    }
    if provider is not None:
        settings |= provider.settings()
    return create_app(make_settings(instance_path, **settings | overrides))


def csrf_token(client, page: str = "/account/status") -> str:
    """The CSRF token of the session, read from a page's form as a browser would."""
    response = client.get(page)
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, f"no form with a CSRF token on {page} ({response.status_code})"
    return match.group(1)


def post_form(client, path: str, data: dict | None = None, page: str = "/account/status"):
    return client.post(path, data={"csrf_token": csrf_token(client, page)} | (data or {}))
