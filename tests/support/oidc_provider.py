"""A real OpenID Connect provider in its own process, and sign-in helpers that use it.

`oidc-provider-mock` (a test provider built on authlib) runs once per test session.
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

import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.support.live_service import free_port
from tests.support.waiting import wait_for

# Straight to 127.0.0.1, whatever proxy the environment names.
_http = requests.Session()
_http.trust_env = False

CLIENT_ID = "wps-test-client"
CLIENT_SECRET = "wps-test-client-secret"


@dataclass
class OidcProvider:
    issuer: str

    def settings(self) -> dict:
        """Settings (create_app / environment names in lower case) that use this provider."""
        return {
            "oidc_issuer": self.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
        }

    def environment(self) -> dict:
        """The same as environment variables, for a server process."""
        return {name.upper(): value for name, value in self.settings().items()}

    def person(self, sub: str, **claims) -> str:
        """Store the claims the provider gives for `sub` (e.g. email, email_verified, name)."""
        response = _http.put(f"{self.issuer}/users/{sub}", json=claims, timeout=10)
        response.raise_for_status()
        return sub

    def approve(self, authorization_url: str, sub: str) -> str:
        """Choose `sub` on the authorization page; the redirect back to the service (URL)."""
        response = _http.post(
            authorization_url, data={"sub": sub}, allow_redirects=False, timeout=10
        )
        assert response.status_code in (302, 303), response.text[:300]
        return response.headers["Location"]


def _run(log_path: Path):
    port = free_port()
    log = open(log_path, "w")  # noqa: SIM115
    command = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "-n", "true"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"

    def ready():
        if process.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited; see {log_path}")
        try:
            url = f"{issuer}/.well-known/openid-configuration"
            return _http.get(url, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_for(ready, timeout=30, interval=0.1)
    return process, log, issuer


@contextmanager
def running_provider(log_dir: Path):
    process, log, issuer = _run(log_dir / "oidc-provider.log")
    try:
        yield OidcProvider(issuer)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


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
