"""A real OpenID Connect provider in its own process, and sign-in helpers that use it.

`oidc-provider-mock` (a test provider built on authlib; started by
devtools/oidc_provider.py, which `invoke chaos` uses too) runs once per test session.
A test decides who signs in: `provider.person(sub, email=..., email_verified=...)`
stores that person's claims at the provider, and the helpers below choose that
`sub` on the provider's authorization page, as a person would.

Use in a conftest or test module:

    from tests.support.oidc_provider import oidc_provider  # noqa: F401  (the fixture)

    def test_x(oidc_provider, ...):
        app = create_app(make_settings(..., **oidc_provider.settings()))
        sign_in_with_test_client(app.test_client(), oidc_provider, "ada")

The provider checks the redirect URI, client id and nonce but (version 0.3.4)
not PKCE, so tests assert the `code_challenge` the service sends.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from devtools.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider, running_provider

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "OidcProvider", "running_provider"]


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """One provider process for the whole test session."""
    with running_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def local_path(url: str) -> str:
    """The path and query of a URL of the service, for the Flask test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in_with_test_client(client, provider: OidcProvider, sub: str, next_path: str = "/"):
    """Sign `sub` in through the provider; the service's last answer (the redirect to next).

    The provider's claims for `sub` are whatever `provider.person` stored.
    """
    started = client.get("/login", query_string={"next": next_path})
    assert started.status_code in (302, 303), started.status_code
    back = provider.approve(started.headers["Location"], sub)
    return client.get(local_path(back))


def sign_in_with_requests(
    session: requests.Session, base_url: str, provider, sub: str, next_path="/"
):
    """The same against a running server, with a `requests.Session` keeping its cookies."""
    started = session.get(f"{base_url}/login", params={"next": next_path}, allow_redirects=False)
    assert started.status_code in (302, 303), started.status_code
    back = provider.approve(started.headers["Location"], sub)
    return session.get(base_url + local_path(back), allow_redirects=False)
