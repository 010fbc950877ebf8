"""Every step of a verification address, once for every channel (ADR 23).

    unverified -> code_requested -> code_created -> code_transmitted -> verified

The person adds their addresses, asks for a code and enters it; a data steward
creates the code, sends it through the address and marks it sent, and may
unverify an address at any time. Each action checks who may act, changes the
address through the services, writes the audit record, leaves the notices for
after the commit, and commits. The channels (app/ivas/routes.py, the pages in
app/pages/addresses.py) parse, call and render.
"""

from uuid import UUID

from flask import current_app

from app.accounts.audit import record_event
from app.authz import Actor, Permission
from app.errors import DomainError, Forbidden
from app.ivas import notices, services
from app.ivas.errors import IvaCodeExpired, TooManyVerificationAttempts
from app.ivas.models import Iva, IvaState, IvaType
from app.unit_of_work import after_commit, commit

OWN_ADDRESS = (
    "You cannot verify your own address: another data steward, an admin, or an "
    "application key with DATA_STEWARD creates and sends its code."
)


def addresses_of(actor: Actor, user_id: UUID) -> list[Iva]:
    """A person's addresses, oldest first: for the person themself or a steward."""
    _require_self_or_steward(actor, user_id)
    return services.list_for(user_id)


def steward_queue(actor: Actor, states: set[IvaState] | None) -> list[Iva]:
    """Every person's addresses in `states` (all with None), newest change first."""
    actor.require(Permission.DATA_STEWARD)
    return services.listing(states)


def add_address(actor: Actor, user_id: UUID, type_: IvaType, value: str) -> Iva:
    """A new, unverified address; only the person adds their own."""
    _require_self(actor, user_id)
    iva = services.add(user_id, type_, value, _settings().max_ivas_per_person)
    _record(actor, iva, "iva_added", f"{iva.type} {iva.id}")
    commit()
    return iva


def delete_address(actor: Actor, user_id: UUID, iva_id: UUID) -> Iva:
    """Gone (the person or a steward); grants bound to it stop working."""
    _require_self_or_steward(actor, user_id)
    iva = services.get(iva_id, user_id)
    services.remove(iva)
    _record(actor, iva, "iva_deleted", str(iva_id))
    commit()
    return iva


def request_code(actor: Actor, iva_id: UUID) -> Iva:
    """The person asks the stewards for a code; each ask messages them, so it is limited
    (per day, counted in the audit record this action writes)."""
    iva = services.get(iva_id, _the_person(actor))  # somebody else's is not found
    services.request_code(iva, _settings().iva_code_requests_per_day)
    _record(actor, iva, "iva_code_requested", str(iva.id))
    after_commit(notices.code_requested, iva)
    commit()
    return iva


def create_code(actor: Actor, iva_id: UUID) -> tuple[Iva, str]:
    """A steward's fresh code, to be shown once and sent through the address."""
    actor.require(Permission.DATA_STEWARD)
    iva = services.get(iva_id)
    _refuse_own_address(actor, iva)
    code = services.create_code(iva)
    _record(actor, iva, "iva_code_created", str(iva.id))
    commit()
    return iva, code


def mark_code_transmitted(actor: Actor, iva_id: UUID) -> Iva:
    """The steward has sent the code; the person is told to enter it."""
    actor.require(Permission.DATA_STEWARD)
    iva = services.get(iva_id)
    _refuse_own_address(actor, iva)
    services.code_transmitted(iva)
    _record(actor, iva, "iva_code_transmitted", str(iva.id))
    after_commit(notices.code_transmitted, iva)
    commit()
    return iva


def verify(actor: Actor, iva_id: UUID, code: str) -> Iva:
    """The person enters the code. A wrong one is counted (and stored) before the refusal;
    the last allowed resets the address, which the person and the stewards hear of. An
    expired code resets it too (kept, then 410): the page offers a new request."""
    iva = services.get(iva_id, _the_person(actor))
    settings = _settings()
    try:
        services.verify_code(
            iva, code, settings.max_iva_verification_attempts, settings.iva_code_valid_days
        )
    except IvaCodeExpired:
        _record(actor, iva, "iva_code_expired", str(iva.id))
        commit()
        raise
    except TooManyVerificationAttempts:
        _record(actor, iva, "iva_reset_after_wrong_codes", str(iva.id))
        after_commit(notices.reset_after_attempts, iva)
        commit()
        raise
    except DomainError:
        commit()  # the wrong attempt is counted
        raise
    _record(actor, iva, "iva_verified", str(iva.id))
    after_commit(notices.verified, iva)
    commit()
    return iva


def unverify(actor: Actor, iva_id: UUID) -> Iva:
    """A steward marks the address unverified from any state; downloads bound to it pause."""
    actor.require(Permission.DATA_STEWARD)
    iva = services.get(iva_id)
    services.unverify(iva)
    _record(actor, iva, "iva_unverified", str(iva.id))
    after_commit(notices.unverified, iva)
    commit()
    return iva


def _refuse_own_address(actor: Actor, iva: Iva) -> None:
    """Whoever creates the code knows it: a steward doing so for their own address
    would verify it alone, and the address would prove nothing (ADR 22)."""
    actor.refuse_own(iva.user_id, OWN_ADDRESS, code="own_verification_address")


def _the_person(actor: Actor) -> UUID:
    """The person acting on their own address (a key has none)."""
    if actor.user_id is None:
        raise Forbidden("Only the person it belongs to may do this", code="other_user")
    return actor.user_id


def _require_self(actor: Actor, user_id: UUID) -> None:
    if not actor.is_person(user_id):
        raise Forbidden("Only the person it belongs to may do this", code="other_user")


def _require_self_or_steward(actor: Actor, user_id: UUID) -> None:
    if not actor.is_person(user_id):
        actor.require(Permission.DATA_STEWARD)


def _settings():
    return current_app.extensions["settings"]


def _record(actor: Actor, iva: Iva, action: str, detail: str) -> None:
    record_event(iva.user_id, action, actor.label, actor.channel, detail)
