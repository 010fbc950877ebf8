"""GA4GH Passports and Visas (AAI profile): verifying the JWTs, with keys from trusted `jku`s.

A token counts only when every check holds: the algorithm is ES256 or RS256 (never
`none`, never HMAC: a public key used as an HMAC secret proves nothing); its header
names a `jku`, and its `iss` and that `jku` are a pair on the allow-list
(`PASSPORT_TRUSTED_ISSUERS`); the key is the one of that set whose `kid` the header
names, fetched from that `jku` only (and cached); `exp` has not passed. A
ControlledAccessGrants visa must also say `by`, and `asserted` must not lie in the
future. What the visas mean (which dataset a `value` stands for) is the caller's.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass, field

import jwt
import requests

from app.errors import Unauthorized

log = logging.getLogger(__name__)

ALGORITHMS = ("ES256", "RS256")
LEEWAY_SECONDS = 60
CONTROLLED_ACCESS = "ControlledAccessGrants"
#: Shortest time between two fetches of one key set when a token names an unknown key.
REFETCH_SECONDS = 30
#: Largest key set accepted from a `jku`.
MAX_JWKS_BYTES = 256 * 1024


class PassportRefused(Unauthorized):
    """The Passport cannot be trusted."""

    code = "passport_invalid"


@dataclass(frozen=True)
class Visa:
    """A ControlledAccessGrants visa whose checks all held."""

    issuer: str
    subject: str
    value: str
    source: str
    by: str
    asserted: int
    expires: int
    jti: str | None

    def describe(self) -> str:
        """What audit records say opened a file (no secret: the visa's public claims)."""
        return (
            f"visa iss={self.issuer} value={self.value} source={self.source} by={self.by} "
            f"asserted={self.asserted} jti={self.jti or '-'}"
        )


@dataclass(frozen=True)
class Passport:
    issuer: str
    subject: str
    expires: int
    visas: tuple[Visa, ...]
    #: Why each visa that did not count was set aside ("visa 2: expired").
    refused: tuple[str, ...] = field(default_factory=tuple)


class KeySets:
    """Key sets fetched from trusted `jku`s, each kept for `ttl` seconds.

    `local` maps a `jku` to a set this service holds itself (its own visa keys), so
    that its own visas verify without a request to itself.
    """

    def __init__(self, ttl: int, local: dict[str, dict] | None = None, timeout: float = 5.0):
        self.ttl, self.timeout = ttl, timeout
        self.local = {url: jwt.PyJWKSet.from_dict(keys) for url, keys in (local or {}).items()}
        self._cache: dict[str, tuple[float, jwt.PyJWKSet]] = {}
        self._lock = threading.Lock()

    def key(self, jku: str, kid: str | None) -> jwt.PyJWK:
        keys = self.local.get(jku) or self._fetched(jku)
        match = [k for k in keys.keys if kid is None or k.key_id == kid]
        if kid is None and len(match) != 1:
            raise PassportRefused("the token names no `kid` and its key set has several keys")
        if not match and self._may_refetch(jku):
            # A key rotated in since the last fetch: ask once more, then give up.
            keys = self._fetched(jku, fresh=True)
            match = [k for k in keys.keys if k.key_id == kid]
        if not match:
            raise PassportRefused(f"no key {kid!r} in the key set at {jku}")
        return match[0]

    def _may_refetch(self, jku: str) -> bool:
        """At most one early fetch per `REFETCH_SECONDS` and key set: tokens naming
        unknown `kid`s must not make us hammer an issuer."""
        with self._lock:
            cached = self._cache.get(jku)
        return cached is None or time.monotonic() - cached[0] >= REFETCH_SECONDS

    def _fetched(self, jku: str, fresh: bool = False) -> jwt.PyJWKSet:
        with self._lock:
            cached = self._cache.get(jku)
        if cached and not fresh and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            response = requests.get(jku, timeout=self.timeout, stream=True)
            body = response.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
            if response.status_code != 200 or len(body) > MAX_JWKS_BYTES:
                raise ValueError(f"answered {response.status_code}")
            keys = jwt.PyJWKSet.from_dict(json.loads(body))
        except (requests.RequestException, ValueError, jwt.PyJWKError) as error:
            log.warning("passport key set %s unusable: %s", jku, error.__class__.__name__)
            raise PassportRefused(f"the key set at {jku} could not be read") from None
        with self._lock:
            self._cache[jku] = (time.monotonic(), keys)
        return keys


def verify_passport(
    token: str, trusted: dict[str, str], keys: KeySets, now: float | None = None
) -> Passport:
    """The Passport's issuer, subject and the visas in it that hold; PassportRefused else.

    `trusted` maps each allowed `iss` to its one `jku`.
    """
    now = time.time() if now is None else now
    claims = _verified(token, trusted, keys, "Passport")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise PassportRefused("the Passport names no subject (`sub`)")
    carried = claims.get("ga4gh_passport_v1")
    if not isinstance(carried, list) or not all(isinstance(v, str) for v in carried):
        raise PassportRefused("the Passport carries no `ga4gh_passport_v1` list of visas")
    visas, refused = [], []
    for number, visa_token in enumerate(carried, start=1):
        try:
            visa = _visa(visa_token, trusted, keys, now)
        except PassportRefused as error:
            refused.append(f"visa {number}: {error.detail}")
            continue
        if visa is not None:
            visas.append(visa)
    return Passport(claims["iss"], subject, int(claims["exp"]), tuple(visas), tuple(refused))


def _visa(token: str, trusted: dict[str, str], keys: KeySets, now: float) -> Visa | None:
    claims = _verified(token, trusted, keys, "visa")
    body = claims.get("ga4gh_visa_v1")
    if not isinstance(body, dict):
        raise PassportRefused("no `ga4gh_visa_v1` object")
    if body.get("type") != CONTROLLED_ACCESS:
        return None  # other visa types say nothing about access here
    asserted = body.get("asserted")
    if not isinstance(asserted, int) or isinstance(asserted, bool):
        raise PassportRefused("`asserted` is missing or not a number")
    if asserted > now + LEEWAY_SECONDS:
        raise PassportRefused("`asserted` lies in the future")
    by = body.get("by")
    if not isinstance(by, str) or not by:
        raise PassportRefused("a ControlledAccessGrants visa must say `by` whom it was granted")
    value, source = body.get("value"), body.get("source")
    if not isinstance(value, str) or not isinstance(source, str):
        raise PassportRefused("`value` and `source` must be strings")
    jti = claims.get("jti")
    return Visa(
        claims["iss"],
        str(claims.get("sub", "")),
        value,
        source,
        by,
        asserted,
        int(claims["exp"]),
        jti if isinstance(jti, str) else None,
    )


def _verified(token: str, trusted: dict[str, str], keys: KeySets, what: str) -> dict:
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise PassportRefused(f"the {what} is not a JWT") from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise PassportRefused(f"the {what} is signed with {algorithm!r}; only ES256 or RS256 count")
    issuer, jku = unverified.get("iss"), header.get("jku")
    if not isinstance(issuer, str) or issuer not in trusted:
        raise PassportRefused(f"the {what}'s issuer {issuer!r} is not trusted")
    if jku != trusted[issuer]:
        raise PassportRefused(f"the {what}'s `jku` {jku!r} is not the key set of {issuer}")
    key = keys.key(jku, header.get("kid"))
    try:
        return jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            options={"require": ["exp", "iat", "iss"], "verify_aud": False},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise PassportRefused(f"the {what} has expired") from None
    except jwt.InvalidSignatureError:
        raise PassportRefused(f"the {what}'s signature does not verify with {jku}") from None
    except jwt.PyJWTError as error:
        raise PassportRefused(f"the {what} is not valid: {error}") from None


def dataset_of(value: str, datasets_url: str, aliases: dict[str, str]) -> str | None:
    """The dataset accession a visa's `value` stands for, or None."""
    if value in aliases:
        return aliases[value]
    prefix = datasets_url.rstrip("/") + "/"
    if value.startswith(prefix) and "/" not in value[len(prefix) :]:
        return value[len(prefix) :] or None
    return None


def trusted_pairs(issuers) -> dict[str, str]:
    return {issuer.iss: str(issuer.jku) for issuer in issuers}
