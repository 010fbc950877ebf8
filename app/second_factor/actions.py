"""The second factor's actions, one function each (ADR 23): set it up or replace it, pass
it, an admin's reset, and the person's answer to the "a factor was set up" notice.

Each checks the actor's right, changes state, writes the audit record, commits, and
only then e-mails or tells the operators (`after_commit`). A wrong code is stored
before the refusal is raised: failures count towards the lock even though the
request fails.
"""

from dataclasses import dataclass
from uuid import UUID

from app.accounts.models import User
from app.authz import Actor, Permission
from app.database import utc_now
from app.errors import DomainError, NotFound
from app.notifications.dispatch import email_user, notify_operators
from app.second_factor import notices, totp
from app.second_factor.audit import record
from app.second_factor.errors import SecondFactorLocked
from app.unit_of_work import after_commit, commit


class NoFactorToReset(NotFound):
    """The person has no second factor to reset."""

    code = "no_second_factor"


@dataclass(frozen=True)
class FactorSetUp:
    recovery_codes: list[str]
    replaced: bool


def set_up(actor: Actor, person: User, secret: str, code: str, current_code: str | None):
    """Confirm the enrolment `secret` with `code` (and, when replacing, the current code)."""
    actor.require_self(person.id)
    try:
        codes, replaced = totp.confirm_enrolment(person.id, secret, code, current_code)
    except DomainError as refused:
        _count_failure(person, refused, actor.channel)
        raise
    action = "second_factor_replaced" if replaced else "second_factor_set_up"
    record(person.id, action, actor.label, actor.channel)
    after_commit(notices.factor_changed, person, replaced, utc_now())
    commit()
    return FactorSetUp(codes, replaced)


def pass_factor(actor: Actor, person: User, code: str) -> str:
    """Check `code` (a TOTP code or a recovery code); answers which kind was used."""
    actor.require_self(person.id)
    try:
        used = totp.verify(person.id, code)
    except DomainError as refused:
        _count_failure(person, refused, actor.channel)
        raise
    record(person.id, f"second_factor_passed_{used}", actor.label, actor.channel)
    commit()
    return used


def reset(actor: Actor, user_id: UUID) -> None:
    """An admin's reset for a person who lost phone and recovery codes.

    The factor, its recovery codes and the person's verification addresses go, and
    every session and API token of the person ends. NoFactorToReset (404) when
    there is none; nothing changes then.
    """
    actor.require(Permission.USER_ADMIN)
    if not totp.reset(user_id, actor.label):
        raise NoFactorToReset("This person has no second factor")
    record(user_id, "second_factor_reset", actor.label, actor.channel)
    commit()


def dismiss_notice(actor: Actor, person: User) -> None:
    actor.require_self(person.id)
    record(person.id, notices.DISMISSED, actor.label, actor.channel)
    commit()


def report_not_me(actor: Actor, person: User, note: str) -> None:
    """The person says the recent set-up or replacement was not them: audited, admins told."""
    actor.require_self(person.id)
    change = notices.recent_change(person.id)
    when = f"{change.created_at:%Y-%m-%d %H:%M} UTC" if change else "unknown time"
    said = f"; they wrote: {note}" if note else ""
    record(person.id, notices.REPORTED, actor.label, actor.channel, f"change at {when}{said}")
    after_commit(notices.tell_admins, person, change, note)
    commit()


def _count_failure(person: User, refused: DomainError, channel: str) -> None:
    """Store the counted failure; the person and the operators hear of a new lock."""
    if isinstance(refused, SecondFactorLocked) and refused.just_locked:
        record(person.id, "second_factor_locked", "system", channel, "5 wrong codes in a row")
        after_commit(
            email_user,
            person.email,
            "Your second factor is locked",
            f"Dear {person.name},\n\nfive wrong codes in a row were entered for your "
            "account, so your second factor is locked for 15 minutes. If this was not "
            "you, tell the administrators.\n",
        )
        after_commit(
            notify_operators,
            f"Second factor of {person.email} ({person.id}) locked after 5 wrong codes.",
        )
    commit()
