"""Internal tokens: ES256 JWTs that say which user is calling.

They come from an identity provider (verified with `AUTH_KEY`) or, in the
embedded default, from this service's own development key.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

import jwt
from pydantic import BaseModel, StringConstraints, ValidationError

from app.credentials.keys import TokenKeys
from app.errors import Unauthorized

LEEWAY_SECONDS = 60
REQUIRED_CLAIMS = ["id", "name", "email", "iat", "exp"]
SECOND_FACTOR_AMR = ["otp", "mfa"]

# The e-mail claim as the identity provider verified it. Providers verify addresses
# that an e-mail validator refuses (`u@localhost`, an intranet domain without a dot),
# and a token speaks for an account id, never for an address, so any address the
# account holds is taken: one with an `@` and no control characters (ADR 22).
TokenEmail = Annotated[
    str,
    StringConstraints(
        min_length=3, max_length=320, pattern=r"^[^\x00-\x1f\x7f]+@[^\x00-\x1f\x7f]+$"
    ),
]


class AuthUser(BaseModel):
    """The user an internal token speaks for."""

    id: UUID
    name: str
    email: TokenEmail
    title: str | None = None
    roles: list[str] = []
    #: Authentication methods (RFC 8176): tokens this service makes from a session
    #: that passed the second factor carry "otp" and "mfa".
    amr: list[str] | None = None
    #: When the token was issued (epoch seconds); set when read from a token, and
    #: compared with the account's cut-off (app/accounts/credentials.py).
    iat: float | None = None

    @property
    def after_second_factor(self) -> bool:
        return "mfa" in (self.amr or [])

    @property
    def full_name(self) -> str:
        return f"{self.title} {self.name}" if self.title else self.name


class InvalidToken(Unauthorized):
    """The token is invalid or expired."""

    code = "invalid_token"


def verify_internal_token(token: str, keys: TokenKeys) -> AuthUser:
    if token.count(".") != 2:
        # Not a JWT at all: most often an application key in the wrong header.
        raise InvalidToken(
            "The bearer token is not an internal token (a JWT). An application key goes "
            "in the Workflow-API-Key header, not in Authorization: Bearer"
        )
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError:
        raise InvalidToken() from None
    if kid is not None and keys.auth_verify_kid is not None and kid != keys.auth_verify_kid:
        raise InvalidToken("The token was signed by an unknown key")
    try:
        claims = jwt.decode(
            token,
            keys.auth_verify.key,
            algorithms=list(keys.auth_algorithms),
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("The token has expired") from None
    except jwt.MissingRequiredClaimError as error:
        raise InvalidToken(f"The token lacks the claim '{error.claim}'") from None
    except jwt.InvalidTokenError:
        raise InvalidToken() from None
    try:
        return AuthUser.model_validate(claims)
    except ValidationError as error:
        field = ".".join(str(part) for part in error.errors()[0]["loc"])
        raise InvalidToken(f"The token's claim '{field}' is invalid") from None


def issue_internal_token(
    keys: TokenKeys, user: AuthUser, lifetime: timedelta = timedelta(hours=1)
) -> str:
    """Sign an internal token with this service's own key (development key)."""
    if keys.auth_signing is None:
        raise RuntimeError("internal tokens come from the identity provider; no key here")
    now = datetime.now(UTC)
    claims = user.model_dump(mode="json", exclude_none=True, exclude={"iat"}) | {
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(
        claims,
        keys.auth_signing.key,
        algorithm="ES256",
        headers={"kid": keys.auth_signing_kid},
    )
