"""A GA4GH Passport and Visa issuer for tests: its key set served over HTTP from a jku.

It signs with ES256 (and can sign with any other key, or none, to be refused); its
public keys are served by a real HTTP server on 127.0.0.1, as a broker or a DAC's
system (REMS `/api/jwk`) serves them.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import uuid4

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.live_service import free_port


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PassportIssuer:
    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.kid = "issuer-key-1"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.iss = f"{self.url}/oidc"
        self.jku = f"{self.url}/jwks.json"
        self.requests: list[str] = []
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                issuer.requests.append(self.path)
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                body = json.dumps(issuer.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [public | {"kid": self.kid, "use": "sig", "alg": "ES256"}]}

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def trusted(self) -> list[dict]:
        return [{"iss": self.iss, "jku": self.jku}]

    # -- tokens ------------------------------------------------------------------------

    def sign(self, claims: dict, *, key=None, header: dict | None = None) -> str:
        headers = {"kid": self.kid, "jku": self.jku, "typ": "JWT"} | (header or {})
        return jwt.encode(claims, key or self.key, algorithm="ES256", headers=headers)

    def visa(
        self,
        value: str,
        *,
        sub: str = "person-1",
        by: str | None = "dac",
        asserted: int | None = None,
        lifetime: int = 3600,
        **signing,
    ) -> str:
        now = int(time.time())
        body = {
            "type": "ControlledAccessGrants",
            "asserted": now - 60 if asserted is None else asserted,
            "value": value,
            "source": "https://dac.example.org/dac1",
        }
        if by is not None:
            body["by"] = by
        claims = {
            "iss": signing.pop("iss", self.iss),
            "sub": sub,
            "iat": now,
            "exp": now + lifetime,
            "jti": str(uuid4()),
            "ga4gh_visa_v1": body,
        }
        return self.sign(claims, **signing)

    def passport(self, visas: list[str], *, sub: str = "person-1", lifetime=3600, **signing):
        now = int(time.time())
        claims = {
            "iss": signing.pop("iss", self.iss),
            "sub": sub,
            "iat": now,
            "exp": now + lifetime,
            "jti": str(uuid4()),
            "ga4gh_passport_v1": visas,
        }
        return self.sign(claims, **signing)

    def unsigned(self, claims: dict) -> str:
        """`alg: none`: no signature at all."""
        header = {"alg": "none", "typ": "JWT", "jku": self.jku, "kid": self.kid}
        return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."

    def hmac_with_public_key(self, claims: dict) -> str:
        """HS256 keyed with the issuer's *public* key: what an attacker can make."""
        header = {"alg": "HS256", "typ": "JWT", "jku": self.jku, "kid": self.kid}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        mac = hmac.new(self.public_pem(), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(mac)}"

    def passport_claims(self, visas: list[str], sub: str = "person-1") -> dict:
        now = int(time.time())
        return {
            "iss": self.iss,
            "sub": sub,
            "iat": now,
            "exp": now + 3600,
            "ga4gh_passport_v1": visas,
        }
