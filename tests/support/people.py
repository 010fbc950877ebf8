"""People: accounts made directly, and the browser side (an app wired to the real
provider, forms with their CSRF token)."""

import re
from uuid import UUID, uuid4

import pytest

from app import create_app
from app.accounts.models import User, UserStatus
from app.extensions import db
from tests.conftest import make_settings

INITIAL_ADMIN = "Boss@Uni.example"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_person(
    *,
    role: str = "researcher",
    name: str | None = None,
    email: str | None = None,
    status: UserStatus | str = UserStatus.ACTIVE,
    user_id: UUID | None = None,
) -> User:
    """A committed account (in the current app context) with `role` on the account, as the
    portal reads it: researcher, steward or admin. Unique name and address unless given;
    `user_id` to match a token's subject (tests.support.users.Researcher)."""
    user_id = user_id or uuid4()
    name = name or f"{role.title()} {user_id.hex[:4]}"
    email = email or f"{name.split()[0].lower()}-{user_id.hex[:8]}@example.org"
    person = User(
        id=user_id,
        name=name,
        email=email,
        email_key=email.lower(),
        status=UserStatus(status).value,
        role=role,
    )
    db.session.add(person)
    db.session.commit()
    return person


@pytest.fixture
def identity_app():
    """Makes the service signing people in through a provider (None: development).

    `identity_app(instance_path, provider, **settings)`. Each app's connections are
    closed after the test, so many such apps never exhaust the database's clients.
    """
    made = []

    def make(instance_path, provider, **overrides):
        app = _identity_app(instance_path, provider, **overrides)
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def _identity_app(instance_path, provider, **overrides):
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


def sign_in_with_role(client, provider, sub: str, role: str = "researcher", **claims):
    """Sign `sub` in through the provider as an ACTIVE person with `role`.

    The first sign-in makes a pending account; an operator then accepts it and gives
    it the role (recorded as through the CLI), as `invoke` would. Returns the account.
    """
    from app.accounts.models import PersonRole, User, UserStatus
    from app.accounts.services import change_role, change_status
    from tests.support.oidc_provider import sign_in_with_test_client

    claims = {"email": f"{sub}@uni.example", "email_verified": True, "name": sub.title()} | claims
    provider.person(sub, **claims)
    sign_in_with_test_client(client, provider, sub)
    with client.application.app_context():
        user = db.session.query(User).filter_by(oidc_subject=sub).one()
        if user.status != UserStatus.ACTIVE:
            change_status(user.id, UserStatus.ACTIVE, "operator:test", "cli")
        change_role(user.id, PersonRole(role), "operator:test", "cli")
        db.session.commit()
        return user
