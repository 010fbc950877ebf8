"""What can be done to people's accounts: one function per action, for every channel.

The JSON API, the admin pages, Slack's buttons and `invoke` call these (ADR 0023):
each action checks the actor's right, changes state through the services (which
flush and record the account event), registers what must follow the commit
(e-mails, operator messages), and commits. Channels parse, call and render.
"""

from dataclasses import dataclass
from uuid import UUID

from app.accounts import api_tokens, identities, notices, services
from app.accounts.audit import record_event
from app.accounts.models import PersonRole, User, UserStatus
from app.accounts.schemas import SignupRequest, TokenPair
from app.accounts.sign_out import SignedOut
from app.accounts.sign_out import sign_out_everywhere as end_everything
from app.authz import Actor, Permission
from app.credentials.crypt4gh_keys import normalise_public_key
from app.errors import DomainError, Forbidden
from app.extensions import db
from app.notifications.approval import announce_pending_person
from app.unit_of_work import after_commit, commit

# Status changes --------------------------------------------------------------------


def accept(actor: Actor, user_id: UUID, *, pending_only: bool = False) -> User:
    """Make a pending (or rejected) account active; the person is e-mailed.

    `pending_only` for channels that act on an old view (Slack's buttons): an
    account decided already is left as it is (AlreadyDecided says by whom).
    """
    user = _change_status(actor, user_id, UserStatus.ACTIVE, pending_only)
    after_commit(notices.tell_accepted, user)
    commit()
    return user


def reject(actor: Actor, user_id: UUID, *, pending_only: bool = False) -> User:
    """Refuse a pending account; any credential it holds ends."""
    user = _change_status(actor, user_id, UserStatus.REJECTED, pending_only)
    commit()
    return user


def disable(actor: Actor, user_id: UUID) -> User:
    """Stop an active account: its tokens, sessions and packages end."""
    user = _change_status(actor, user_id, UserStatus.DISABLED)
    commit()
    return user


def enable(actor: Actor, user_id: UUID) -> User:
    """Let a disabled account in again (its old tokens stay dead)."""
    user = _change_status(actor, user_id, UserStatus.ACTIVE)
    commit()
    return user


def _change_status(
    actor: Actor, user_id: UUID, target: UserStatus, pending_only: bool = False
) -> User:
    actor.require(Permission.USER_ADMIN)
    if not pending_only:
        return services.change_status(user_id, target, actor.label, actor.channel)
    # A savepoint: a refused decision leaves nothing behind, while the channel may
    # still store what it keeps of its own (Slack remembers the interaction).
    with db.session.begin_nested():
        return services.decide_pending(user_id, target, actor.label, actor.channel)


# Roles -------------------------------------------------------------------------------


def change_role(actor: Actor, user_id: UUID, role: PersonRole) -> User:
    """Give an active account another role (the record says from what to what)."""
    actor.require(Permission.USER_ADMIN)
    user = services.change_role(user_id, role, actor.label, actor.channel)
    commit()
    return user


# Signing out, API tokens -------------------------------------------------------------


def sign_out_everywhere(actor: Actor, person: User) -> SignedOut:
    """End every browser session and API token of `person`: they themselves, or an
    account admin."""
    _require_self_or_admin(actor, person.id)
    done = end_everything(person, actor.label, actor.channel)
    commit()
    return done


def create_api_token(actor: Actor, person: User) -> str:
    """A new API token (refresh-token chain) for the person themselves; shown once.

    The channel admits only a session past the second factor: the token's access
    tokens say so.
    """
    _require_self(actor, person.id)
    token = api_tokens.create_api_token(person)
    commit()
    return token


def set_crypt4gh_key(actor: Actor, person: User, public_key: str | None) -> User:
    """The person's own Crypt4GH public key, to which DRS downloads are sealed; None
    removes it. 422 `invalid_crypt4gh_key` for anything but a public key."""
    _require_self(actor, person.id)
    try:
        normalised = normalise_public_key(public_key) if public_key else None
    except ValueError as error:
        raise InvalidCrypt4ghKey(f"Invalid Crypt4GH public key: {error}") from None
    if normalised != person.crypt4gh_public_key:
        person.crypt4gh_public_key = normalised
        detail = "set" if normalised else "removed"
        record_event(person.id, "crypt4gh_key_changed", actor.label, actor.channel, detail)
    commit()
    return person


class InvalidCrypt4ghKey(DomainError):
    """The Crypt4GH public key is not valid."""

    status, code = 422, "invalid_crypt4gh_key"


def revoke_api_token(actor: Actor, family_id: UUID) -> None:
    """Revoke one of the actor's own API tokens; someone else's is 'not found'."""
    if actor.user_id is None:
        raise api_tokens.ApiTokenNotFound()
    api_tokens.revoke_api_token(actor.user_id, family_id)
    commit()


def reissue_api_token(actor: Actor, reference: str) -> tuple[User, str]:
    """An admin replaces every token of the active account `reference` names (id or
    e-mail) with one new chain (the admin pages)."""
    actor.require(Permission.USER_ADMIN)
    person = services.find_account(reference)
    token = api_tokens.reissue_api_token(person, actor.label)
    commit()
    return person, token


def reissue_refresh_token(actor: Actor, user_id: UUID) -> tuple[User, str]:
    """A new refresh token for a pending or active account, its others revoked (API, invoke)."""
    actor.require(Permission.USER_ADMIN)
    user, token = services.reissue_refresh_token(user_id, actor.label)
    commit()
    return user, token


def trade_refresh_token(presented: str) -> TokenPair:
    """Spend a refresh token for a new pair; the token itself is the right to act.

    Committed whether or not the trade succeeds: a detected reuse (or a chain too
    old) revokes the whole chain even though the request is refused.
    """
    try:
        return services.refresh(presented)
    finally:
        commit()


def _require_self(actor: Actor, user_id: UUID) -> None:
    if not actor.is_person(user_id):
        raise Forbidden("Only the person themselves can do this", code="own_account_only")


def _require_self_or_admin(actor: Actor, user_id: UUID) -> None:
    if not actor.is_person(user_id):
        actor.require(Permission.USER_ADMIN)


# Making accounts ---------------------------------------------------------------------


def sign_up(request: SignupRequest) -> tuple[User, str]:
    """Someone signs themselves up (no provider): a pending account and its first
    refresh token; the operators are asked to approve."""
    user, refresh_token = services.signup(request)
    after_commit(announce_pending_person, user)
    commit()
    return user, refresh_token


@dataclass(frozen=True)
class CreatedAccount:
    user: User
    refresh_token: str


def create_account(actor: Actor, request: SignupRequest, *, admin: bool = False) -> CreatedAccount:
    """An operator makes an account: pending, or an active admin at once.

    Its refresh token is in the result only. With an identity provider configured,
    the person's first sign-in with this address, verified, links the account.
    """
    actor.require(Permission.USER_ADMIN)
    user = services.create_local_account(request)
    record_event(user.id, "created", actor.label, actor.channel)
    if admin:
        services.change_status(user.id, UserStatus.ACTIVE, actor.label, actor.channel)
        services.change_role(user.id, PersonRole.ADMIN, actor.label, actor.channel)
    refresh_token = services.issue_refresh_token(user.id)
    commit()
    return CreatedAccount(user, refresh_token)


def link_account(actor: Actor, user_id: UUID, issuer: str, subject: str) -> User:
    """Bind an account not linked yet to a person at the identity provider; a pair
    already linked to another account fails at the flush (IntegrityError)."""
    actor.require(Permission.USER_ADMIN)
    user = services.get_user(user_id)
    identities.link_account(user, issuer, subject, actor.label, actor.channel)
    commit()
    return user
