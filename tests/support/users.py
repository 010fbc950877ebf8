"""Test users: an internal token and a Crypt4GH key pair, used as the connector would."""

import base64
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID, uuid4

import jwt
from nacl.public import PrivateKey, SealedBox

from app.credentials.internal_tokens import SECOND_FACTOR_AMR, AuthUser, issue_internal_token
from tests.support.secrets_seen import remember


@dataclass
class Researcher:
    app: object
    id: UUID = field(default_factory=uuid4)
    name: str = "Ada Lovelace"
    email: str = "ada@example.org"
    title: str | None = "Dr."
    crypt4gh: PrivateKey = field(default_factory=PrivateKey.generate)
    #: Tokens as the portal makes them after the second factor (`amr` claim).
    second_factor: bool = True

    @property
    def public_key(self) -> str:
        return base64.b64encode(bytes(self.crypt4gh.public_key)).decode()

    def token(self, lifetime=timedelta(hours=1)) -> str:
        user = AuthUser(
            id=self.id,
            name=self.name,
            email=self.email,
            title=self.title,
            amr=list(SECOND_FACTOR_AMR) if self.second_factor else None,
        )
        return remember(issue_internal_token(self.app.extensions["token_keys"], user, lifetime))

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token()}"}

    def open_sealed(self, sealed: str) -> str:
        """Decrypt as ghga-connector does: base64, then a NaCl sealed box."""
        return remember(SealedBox(self.crypt4gh).decrypt(base64.b64decode(sealed)).decode())


def verify_work_order_token(token: str, jwks: dict) -> dict:
    """Verify a WOT the way a storage service does: by `kid` from the published set."""
    kid = jwt.get_unverified_header(token)["kid"]
    (key,) = [k for k in jwks["keys"] if k["kid"] == kid]
    return jwt.decode(token, jwt.PyJWK(key).key, algorithms=["ES256"])
