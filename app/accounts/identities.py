"""People as identity providers vouch for them: find, link or create their account.

A person is (issuer, subject). An e-mail address says nothing about who someone
is unless the provider verified it, so an unverified address never links an
existing account and never makes anyone admin. `INITIAL_ADMIN_EMAIL` makes the
first admin of an empty service only: once any account has been admin, that
address is an ordinary person's (ADR 0021).
"""

import re
from dataclasses import dataclass
from typing import NamedTuple
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.audit import record_event
from app.accounts.errors import SignInRefused
from app.accounts.milestones import claim_first_admin
from app.accounts.models import PersonRole, User, UserStatus
from app.database import utc_now
from app.extensions import db

INITIAL_ADMIN_ACTOR = "configuration:INITIAL_ADMIN_EMAIL"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f<>]")


@dataclass(frozen=True)
class ProviderIdentity:
    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str

    @classmethod
    def from_claims(cls, claims: dict) -> "ProviderIdentity":
        """From a verified id_token's claims (merged with userinfo when asked for)."""
        issuer, subject = claims.get("iss"), claims.get("sub")
        if not isinstance(issuer, str) or not isinstance(subject, str) or not subject:
            raise SignInRefused("The identity provider did not say who you are")
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email or len(email) > 320:
            raise SignInRefused(
                "The identity provider did not share an e-mail address; allow it to and "
                "sign in again"
            )
        verified = claims.get("email_verified")
        # Some providers send the JSON string "true"; anything else is not a yes.
        email_verified = verified is True or verified == "true"
        return cls(issuer, subject, email.strip(), email_verified, _display_name(claims))

    def is_verified(self, address: str | None) -> bool:
        return bool(address) and self.email_verified and self.email.lower() == address.lower()


def _display_name(claims: dict) -> str:
    given = " ".join(
        str(claims[part]) for part in ("given_name", "family_name") if claims.get(part)
    )
    for candidate in (claims.get("name"), given, claims.get("preferred_username")):
        if isinstance(candidate, str) and candidate.strip():
            cleaned = _UNPRINTABLE.sub("", candidate).strip()
            if cleaned:
                return cleaned[:256]
    return str(claims["email"]).split("@")[0][:256]


class SignedIn(NamedTuple):
    user: User
    #: The account was made at this sign-in.
    created: bool
    #: This sign-in made the service's first admin (the operators are to be told).
    first_admin: bool


def person_signed_in(identity: ProviderIdentity, initial_admin_email: str | None) -> SignedIn:
    """The account of the person who just signed in, whether it is new, whether first admin.

    A new account is pending. E-mail and name follow the provider at every
    sign-in. The caller commits.
    """
    user = _by_identity(identity) or _link_unlinked(identity)
    created = user is None
    if user is None:
        user, created = _create(identity)
    user.email, user.email_key, user.name = identity.email, identity.email.lower(), identity.name
    user.email_verified = identity.email_verified
    first_admin = (
        user.status == UserStatus.PENDING
        and identity.is_verified(initial_admin_email)
        and claim_first_admin(user)
    )
    if first_admin:
        user.status, user.role = UserStatus.ACTIVE.value, PersonRole.ADMIN.value
        user.approved_at, user.approved_by = utc_now(), INITIAL_ADMIN_ACTOR
        record_event(user.id, "approved", INITIAL_ADMIN_ACTOR, "sign-in", "as the first admin")
    db.session.flush()
    return SignedIn(user, created, first_admin)


def _by_identity(identity: ProviderIdentity) -> User | None:
    return db.session.scalars(
        select(User)
        .where(User.oidc_issuer == identity.issuer, User.oidc_subject == identity.subject)
        .with_for_update()
    ).one_or_none()


def _link_unlinked(identity: ProviderIdentity) -> User | None:
    """An account made before sign-in (signup, CLI) whose address the provider verified."""
    if not identity.email_verified:
        return None
    user = db.session.scalars(
        select(User)
        .where(User.email_key == identity.email.lower(), User.oidc_subject.is_(None))
        .with_for_update()
    ).one_or_none()
    if user is not None:
        user.oidc_issuer, user.oidc_subject = identity.issuer, identity.subject
        detail = f"{identity.issuer} {identity.subject} (verified e-mail)"
        record_event(user.id, "linked", f"provider:{identity.issuer}", "sign-in", detail)
    return user


def _create(identity: ProviderIdentity) -> tuple[User, bool]:
    user = User(
        id=uuid4(),
        name=identity.name,
        email=identity.email,
        email_key=identity.email.lower(),
        oidc_issuer=identity.issuer,
        oidc_subject=identity.subject,
        status=UserStatus.PENDING.value,
        role=PersonRole.RESEARCHER.value,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        # The same person's other browser tab created it a moment ago.
        existing = _by_identity(identity)
        if existing is None:
            raise
        return existing, False
    return user, True


def link_account(user: User, issuer: str, subject: str, actor: str, channel: str = "cli") -> None:
    """An operator binds an existing account to a provider identity."""
    user.oidc_issuer, user.oidc_subject = issuer, subject
    record_event(user.id, "linked", actor, channel, f"{issuer} {subject}")
    db.session.flush()
