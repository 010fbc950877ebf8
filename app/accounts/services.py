"""Accounts: signup, status changes by admins, refresh tokens traded for access tokens."""

import hashlib
import secrets
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts import milestones
from app.accounts.audit import STATUS_ACTIONS, last_decision, record_event
from app.accounts.credentials import (
    cut_off,
    revoke_family,
    revoke_user_tokens,
    wait_out_cut_off_second,
)
from app.accounts.errors import (
    AccountBlocked,
    AccountDisabled,
    AccountPending,
    AlreadyDecided,
    AmbiguousAccount,
    ApiTokenTooOld,
    EmailTaken,
    InvalidRefreshToken,
    InvalidStatusChange,
    SignupClosed,
    SignupDisabled,
    UserNotFound,
)
from app.accounts.models import TRANSITIONS, PersonRole, RefreshToken, User, UserStatus
from app.accounts.schemas import SignupRequest, TokenPair, UserQuery
from app.credentials.internal_tokens import SECOND_FACTOR_AMR, AuthUser, issue_internal_token
from app.credentials.keys import token_keys
from app.database import fetch_page, utc_now
from app.extensions import db

REFRESH_TOKEN_PREFIX = "wpsrt_"  # noqa: S105 - a marker, not a secret


def _settings():
    return current_app.extensions["settings"]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def signup(request: SignupRequest) -> tuple[User, str]:
    """A pending account and its first refresh token (no provider configured).

    Nobody verified the address, so signup never makes an admin: INITIAL_ADMIN_EMAIL
    counts only when an identity provider says the address is verified.
    """
    settings = _settings()
    if settings.auth_mode != "standalone":
        raise SignupDisabled()
    if settings.oidc_issuer:
        raise SignupClosed()
    user = create_local_account(request)
    return user, issue_refresh_token(user.id)


def create_local_account(request: SignupRequest) -> User:
    """A pending account not yet bound to a provider identity; its e-mail is unique."""
    email = str(request.email)
    user = User(
        id=uuid4(),
        name=request.name,
        title=request.title or None,
        email=email,
        email_key=email.lower(),
        status=UserStatus.PENDING.value,
        role=PersonRole.RESEARCHER.value,
        email_verified=False,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        raise EmailTaken(f"An account for {email} exists") from None
    return user


def issue_refresh_token(
    user_id: UUID,
    family_id: UUID | None = None,
    after_second_factor: bool = False,
    family_created_at: datetime | None = None,
) -> str:
    """A new refresh token; `after_second_factor` only from a fully authenticated session.

    The access tokens it (and its successors) yield say so in their `amr` claim, and
    such a family expires MFA_TOKEN_FAMILY_MAX_AGE after its first token, used or not.
    """
    token = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utc_now()
    family_created_at = family_created_at or now
    expires_at = now + timedelta(days=_settings().refresh_token_days)
    if after_second_factor:
        expires_at = min(expires_at, family_created_at + _mfa_family_max_age())
    db.session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family_id or uuid4(),
            family_created_at=family_created_at,
            token_hash=_hash(token),
            created_at=now,
            expires_at=expires_at,
            after_second_factor=after_second_factor,
        )
    )
    db.session.flush()
    return token


def _mfa_family_max_age() -> timedelta:
    return timedelta(seconds=_settings().mfa_token_family_max_age)


def refresh(presented: str) -> TokenPair:
    """Spend a refresh token for an access token and its successor.

    A token presented a second time was copied: its whole family is revoked. The
    account row is locked before the token (as `credentials.cut_off` does), so a
    cut-off at the same moment cannot miss the successor made here.
    """
    user = _lock_owner(presented)
    record = db.session.scalars(
        select(RefreshToken).where(RefreshToken.token_hash == _hash(presented)).with_for_update()
    ).first()
    now = utc_now()
    if user is None or record is None or record.revoked_at is not None:
        raise InvalidRefreshToken()
    if record.after_second_factor and now - record.family_created_at >= _mfa_family_max_age():
        revoke_family(record.family_id, "older than MFA_TOKEN_FAMILY_MAX_AGE")
        raise ApiTokenTooOld(_too_old_detail())
    if record.expires_at <= now:
        raise InvalidRefreshToken()
    if record.used_at is not None:
        revoke_family(record.family_id, "reuse of a spent refresh token")
        raise InvalidRefreshToken(
            "This refresh token was already used; every token of its chain is now revoked",
            code="refresh_token_reused",
        )
    if user.status == UserStatus.PENDING:
        raise AccountPending()
    if user.status != UserStatus.ACTIVE:
        raise AccountDisabled()
    record.used_at = now
    successor = issue_refresh_token(
        user.id, record.family_id, record.after_second_factor, record.family_created_at
    )
    lifetime = timedelta(minutes=_settings().access_token_minutes)
    auth_user = _auth_user(user, record.after_second_factor)
    wait_out_cut_off_second(user)
    access = issue_internal_token(token_keys(), auth_user, lifetime)
    return TokenPair(
        access_token=access, refresh_token=successor, expires_in=int(lifetime.total_seconds())
    )


def _lock_owner(presented: str) -> User | None:
    """The account the presented token belongs to, locked for share (None: no such token)."""
    owner = db.session.scalar(
        select(RefreshToken.user_id).where(RefreshToken.token_hash == _hash(presented))
    )
    if owner is None:
        return None
    return db.session.get(User, owner, with_for_update={"read": True})


def _too_old_detail() -> str:
    days = _settings().mfa_token_family_max_age / 86400
    return (
        f"This API token is older than {days:g} days (MFA_TOKEN_FAMILY_MAX_AGE); make a new "
        "API token in the portal after entering your second-factor code"
    )


def _auth_user(user: User, after_second_factor: bool = False) -> AuthUser:
    # Roles are informational only: rights are read from the account at each request.
    return AuthUser(
        id=user.id,
        name=user.name,
        email=user.email,
        title=user.title,
        roles=[user.role],
        amr=list(SECOND_FACTOR_AMR) if after_second_factor else None,
    )


def get_user(user_id: UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise UserNotFound(f"User {user_id} not found")
    return user


def find_account(reference: str) -> User:
    """The one account `reference` names: its id, or an e-mail address (any case)."""
    matches = _accounts_named(reference)
    if not matches:
        raise UserNotFound(f"No account for {reference.strip()}")
    if len(matches) > 1:
        ids = ", ".join(str(user.id) for user in matches)
        raise AmbiguousAccount(f"{reference} names several accounts ({ids}); give the id of one")
    return matches[0]


def find_account_to_accept(reference: str) -> User:
    """The account `reference` names that awaits acceptance (the operator's accept-user).

    One address may name several people: then only the accounts not active yet count.
    A single account is returned whatever its state, so that accepting it says why not.
    """
    matches = _accounts_named(reference)
    if len(matches) > 1:
        matches = [user for user in matches if user.status != UserStatus.ACTIVE]
    if len(matches) != 1:
        found = "no account" if not matches else f"{len(matches)} accounts"
        raise UserNotFound(f"{found} waiting for acceptance for {reference.strip()}")
    return matches[0]


def find_account_to_link(reference: str) -> User:
    """The one account `reference` names that is not linked to a provider's person yet."""
    matches = [user for user in _accounts_named(reference) if user.oidc_subject is None]
    if len(matches) != 1:
        raise UserNotFound(f"no account waiting to be linked for {reference.strip()}")
    return matches[0]


def _accounts_named(reference: str) -> list[User]:
    reference = reference.strip()
    try:
        by_id = db.session.get(User, UUID(reference))
    except ValueError:
        return list(
            db.session.scalars(
                select(User).where(User.email_key == reference.lower()).order_by(User.id).limit(5)
            )
        )
    return [by_id] if by_id is not None else []


def reissue_refresh_token(user_id: UUID, actor: str) -> tuple[User, str]:
    """A new refresh token for a pending or active account, replacing its others.

    This is how a person who lost or spent their token, or whose account was
    disabled and enabled again, gets back in. The token they may still hold is
    revoked: whoever asked for a new one no longer trusts the old.
    """
    user = db.session.get(User, user_id, with_for_update=True)
    if user is None:
        raise UserNotFound(f"User {user_id} not found")
    if user.status not in (UserStatus.PENDING, UserStatus.ACTIVE):
        raise AccountBlocked(
            f"A {user.status} account gets no refresh token; "
            f"{'enable' if user.status == UserStatus.DISABLED else 'accept'} it first"
        )
    revoke_user_tokens(user.id, f"replaced by {actor}")
    return user, issue_refresh_token(user.id)


def list_users(query: UserQuery) -> tuple[list[User], int]:
    statement = select(User)
    if query.status is not None:
        statement = statement.where(User.status == query.status.value)
    ordered = statement.order_by(User.created_at, User.id)
    return fetch_page(db.session, ordered, query.skip, query.limit)


def change_status(user_id: UUID, target: UserStatus, actor: str, channel: str = "api") -> User:
    """Apply an admin's status change and record it; every credential ends on disable or reject."""
    user = db.session.get(User, user_id, with_for_update=True)
    if user is None:
        raise UserNotFound(f"User {user_id} not found")
    if user.status == target:
        raise InvalidStatusChange(f"The account is {target} already")
    if target not in TRANSITIONS.get(UserStatus(user.status), set()):
        raise InvalidStatusChange(f"A {user.status} account cannot become {target}")
    if target == UserStatus.DISABLED:
        _keep_an_admin(user)
    previous = user.status
    user.status = target.value
    if target == UserStatus.ACTIVE:
        user.approved_at, user.approved_by = utc_now(), actor
    if target in (UserStatus.DISABLED, UserStatus.REJECTED):
        # Re-enabling later sets nothing back: the person signs in again.
        cut_off(user, f"account {target.value}", actor)
    record_event(user.id, STATUS_ACTIONS[(previous, target)], actor, channel)
    db.session.flush()
    return user


def decide_pending(user_id: UUID, target: UserStatus, actor: str, channel: str) -> User:
    """Accept or reject an account only while it is pending, through `change_status`.

    For channels that act on what may be an old view (Slack's buttons stay in the
    channel): an account someone decided about already is left as it is, and
    AlreadyDecided says who decided and when.
    """
    user = db.session.get(User, user_id, with_for_update=True)
    if user is None:
        raise UserNotFound(f"User {user_id} not found")
    if user.status != UserStatus.PENDING:
        raise AlreadyDecided(user.status, last_decision(user))
    return change_status(user_id, target, actor, channel)


def change_role(user_id: UUID, role: PersonRole, actor: str, channel: str = "api") -> User:
    """Give an account another role; the change is recorded. Only active accounts.

    Nothing is revoked: rights are read from the account at each request, so the
    person's tokens and sessions keep working with the new role's rights at once.
    """
    user = db.session.get(User, user_id, with_for_update=True)
    if user is None:
        raise UserNotFound(f"User {user_id} not found")
    if user.status != UserStatus.ACTIVE:
        raise InvalidStatusChange("Only an active account can change its role")
    if role != PersonRole.ADMIN:
        _keep_an_admin(user)
    if user.role != role:
        record_event(user.id, "role_changed", actor, channel, f"{user.role} → {role.value}")
        user.role = role.value
    if role == PersonRole.ADMIN:
        milestones.admin_made(user, actor)
    db.session.flush()
    return user


def _keep_an_admin(user: User) -> None:
    """Refuse to take the last active admin's rights: nobody could approve anyone again.

    The active admins' rows are locked, so two admins demoting each other at once
    cannot both succeed.
    """
    if user.role != PersonRole.ADMIN or user.status != UserStatus.ACTIVE:
        return
    admins = db.session.scalars(
        select(User.id)
        .where(User.role == PersonRole.ADMIN.value, User.status == UserStatus.ACTIVE.value)
        .with_for_update()
    ).all()
    if set(admins) <= {user.id}:
        raise InvalidStatusChange(
            "This is the last active admin; make someone else admin first", code="last_admin"
        )


def make_admin(user_id: UUID, actor: str = "api", channel: str = "api") -> User:
    return change_role(user_id, PersonRole.ADMIN, actor, channel)
