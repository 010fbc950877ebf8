"""A real OpenID Connect provider (`oidc-provider-mock`) in a process of its own.

Who signs in is decided by its caller: `provider.person(sub, email=..., email_verified=...)`
stores that person's claims at the provider, and `approve` chooses that `sub` on the
provider's authorization page, as a person would. Used by the tests
(tests/support/oidc_provider.py) and by `invoke chaos` (devtools may not import tests).

The provider checks the redirect URI, client id and nonce but (version 0.3.4)
not PKCE.
"""

import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from devtools.local_services import free_port, wait_until_answering

# Straight to 127.0.0.1, whatever proxy the environment names.
_http = requests.Session()
_http.trust_env = False

CLIENT_ID = "wps-test-client"
CLIENT_SECRET = "wps-test-client-secret"  # noqa: S105 - the test provider accepts any


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
        if response.status_code not in (302, 303):
            raise RuntimeError(
                f"the provider answered {response.status_code}: {response.text[:300]}"
            )
        return response.headers["Location"]


@contextmanager
def running_provider(log_dir: Path):
    """The provider on a free port of 127.0.0.1 until the block ends (nonces required)."""
    log_path = log_dir / "oidc-provider.log"
    port = free_port()
    command = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "-n", "true"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            issuer = f"http://127.0.0.1:{port}"
            wait_until_answering(
                f"{issuer}/.well-known/openid-configuration",
                process,
                f"the OpenID provider (see {log_path})",
                seconds=30,
                interval=0.1,
            )
            yield OidcProvider(issuer)
        finally:
            process.terminate()
            process.wait(timeout=10)
