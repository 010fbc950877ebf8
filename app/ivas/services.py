"""The IVA lifecycle (GHGA's states): person adds and requests, steward creates and
transmits a code, person enters it; a steward may unverify at any time.

    unverified -> code_requested -> code_created -> code_transmitted -> verified

Three wrong codes send the address back to `unverified`. Codes are shown once
to the steward and stored as SHA-256 only. The steps take the address the action
found (and checked: whose it is, four eyes); they flush, never commit. The action
commits even when a wrong code is refused, so attempts are counted.
"""

import hashlib
import hmac
import secrets
from uuid import UUID

from sqlalchemy import delete, func, select

from app.database import utc_now
from app.extensions import db
from app.ivas.errors import (
    IvaNotFound,
    IvaNotUsable,
    IvaWrongState,
    TooManyVerificationAttempts,
    WrongVerificationCode,
)
from app.ivas.models import STEP_FROM, Iva, IvaState, IvaType

MAX_ATTEMPTS = 3
CODE_LENGTH = 8
#: Letters and digits a person cannot misread when a code is read out or faxed.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def list_for(user_id: UUID) -> list[Iva]:
    return list(
        db.session.scalars(select(Iva).where(Iva.user_id == user_id).order_by(Iva.created_at))
    )


def listing(states: set[IvaState] | None = None) -> list[Iva]:
    """Every person's addresses (stewards), newest change first."""
    statement = select(Iva)
    if states:
        statement = statement.where(Iva.state.in_([s.value for s in states]))
    return list(db.session.scalars(statement.order_by(Iva.changed_at.desc(), Iva.id)))


def get(iva_id: UUID, user_id: UUID | None = None) -> Iva:
    """The address; with `user_id`, only if it is that person's (else 404)."""
    iva = db.session.get(Iva, iva_id, with_for_update=True)
    if iva is None or (user_id is not None and iva.user_id != user_id):
        raise IvaNotFound(f"Verification address {iva_id} not found")
    return iva


def add(user_id: UUID, type_: IvaType, value: str) -> Iva:
    iva = Iva(
        user_id=user_id,
        type=type_.value,
        value=value.strip(),
        state=IvaState.UNVERIFIED.value,
        attempts=0,
    )
    db.session.add(iva)
    db.session.flush()
    return iva


def remove(iva: Iva) -> None:
    """Delete an address; grants bound to it stop working (they need it verified)."""
    db.session.delete(iva)
    db.session.flush()


def delete_all(user_id: UUID) -> int:
    return db.session.execute(delete(Iva).where(Iva.user_id == user_id)).rowcount


def request_code(iva: Iva) -> None:
    """Ask the stewards for a code (the action limits how often a person may)."""
    _step(iva, "request_code", IvaState.CODE_REQUESTED)


def create_code(iva: Iva) -> str:
    """A fresh code for the steward to send; replaces any earlier one."""
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))
    _step(iva, "create_code", IvaState.CODE_CREATED)
    iva.code_hash, iva.attempts = _hash(code), 0
    db.session.flush()
    return code


def code_transmitted(iva: Iva) -> None:
    _step(iva, "code_transmitted", IvaState.CODE_TRANSMITTED)


def verify_code(iva: Iva, code: str) -> None:
    """Verified, or the wrong attempt counted and refused (the third resets the address)."""
    _check_state(iva, "verify_code")
    if iva.code_hash and hmac.compare_digest(iva.code_hash, _hash(code)):
        iva.code_hash, iva.attempts = None, 0
        _set_state(iva, IvaState.VERIFIED)
        return
    iva.attempts += 1
    if iva.attempts >= MAX_ATTEMPTS:
        iva.code_hash, iva.attempts = None, 0
        _set_state(iva, IvaState.UNVERIFIED)
        raise TooManyVerificationAttempts()
    db.session.flush()
    left = MAX_ATTEMPTS - iva.attempts
    raise WrongVerificationCode(
        f"The verification code is not right; {left} attempt{'s' if left > 1 else ''} left"
    )


def unverify(iva: Iva) -> None:
    """Back to `unverified` from any state: grants bound to it stop at once."""
    iva.code_hash, iva.attempts = None, 0
    _set_state(iva, IvaState.UNVERIFIED)


def bindable(iva_id: UUID, user_id: UUID) -> Iva:
    """The address a steward binds a grant for `user_id` to: it must be theirs."""
    iva = db.session.get(Iva, iva_id)
    if iva is None or iva.user_id != user_id:
        raise IvaNotUsable()
    return iva


def count_verified(user_id: UUID) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Iva)
        .where(Iva.user_id == user_id, Iva.state == IvaState.VERIFIED.value)
    )


def _check_state(iva: Iva, step: str) -> None:
    if IvaState(iva.state) not in STEP_FROM[step]:
        action = step.replace("_", " ")
        raise IvaWrongState(f"Cannot {action}: the verification address is {iva.state}")


def _step(iva: Iva, step: str, target: IvaState) -> None:
    _check_state(iva, step)
    _set_state(iva, target)


def _set_state(iva: Iva, state: IvaState) -> None:
    iva.state = state.value
    iva.changed_at = utc_now()
    db.session.flush()


def _hash(code: str) -> str:
    return hashlib.sha256("".join(code.split()).upper().encode()).hexdigest()
