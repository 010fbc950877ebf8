"""People signed in to a test client, and the second factor passed through the real pages.

`signed_in` starts a server-side session as `app.web.session.sign_in` does after
the provider; the second factor is then passed through the real pages.
"""

import re
import time
from uuid import uuid4

import pyotp

from app.accounts.models import User
from app.extensions import db
from tests.secrets_seen import remember


def make_person(role: str = "researcher", *, user_id=None, email=None, status="active") -> User:
    """A committed account; `role` is researcher, steward or admin."""
    user_id = user_id or uuid4()
    email = email or f"{role}-{user_id.hex[:8]}@example.org"
    person = User(
        id=user_id,
        name=f"{role.title()} {user_id.hex[:4]}",
        email=email,
        email_key=email.lower(),
        status=status,
        role=role,
    )
    db.session.add(person)
    db.session.commit()
    return person


def signed_in(client, person) -> None:
    """A fresh session signed in through the provider only (no second factor yet)."""
    from tests.web_sessions import sign_in

    sign_in(client, person, second_factor=False)


def form(client, path: str, page: str = "/verification-addresses", **fields):
    """POST a form with the CSRF token that `page` (where the form is) carries."""
    return client.post(path, data={"csrf_token": csrf_token(client, page), **fields})


def csrf_token(client, path: str = "/verification-addresses") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def enrol(client) -> tuple[str, list[str]]:
    """Set up TOTP through the pages; returns the secret and the recovery codes."""
    page = client.get("/second-factor/setup").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    remember(secret)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = client.post(
        "/second-factor/setup",
        data={"csrf_token": token, "code": pyotp.TOTP(secret).now()},
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.get_data(as_text=True))
    for code in codes:
        remember(code)
    return secret, codes


def next_step_code(secret: str, steps_ahead: int = 1) -> str:
    """The code of a later time step (within the accepted drift): a fresh, unused code."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def pass_second_factor(client, secret: str, steps_ahead: int = 1):
    token = csrf_token(client, "/second-factor/verify")
    return client.post(
        "/second-factor/verify",
        data={"csrf_token": token, "code": next_step_code(secret, steps_ahead)},
    )
