"""The IVA lifecycle (GHGA's states): person adds and requests, steward creates and
transmits a code, person enters it; a steward may unverify at any time.

    unverified -> code_requested -> code_created -> code_transmitted -> verified

GHGA's limits (ADR 25), numbers from the settings the action passes in: at most
`MAX_IVAS_PER_PERSON` addresses, `IVA_CODE_REQUESTS_PER_DAY` code requests in any
24 hours, `MAX_IVA_VERIFICATION_ATTEMPTS` wrong codes (the last sends the address
back to `unverified`), and a code works for `IVA_CODE_VALID_DAYS`. Phone numbers are
stored in E.164. Codes are shown once to the steward and stored as SHA-256 only.
The steps take the address the action found (and checked: whose it is, four eyes);
they flush, never commit. The action commits even when a wrong or expired code is
refused, so attempts and resets are kept.
"""

import hashlib
import hmac
import math
import secrets
from datetime import timedelta
from uuid import UUID

import phonenumbers
from sqlalchemy import delete, func, select

from app.accounts.models import AccountEvent, User
from app.database import utc_now
from app.extensions import db
from app.ivas.errors import (
    InvalidPhoneNumber,
    IvaCodeExpired,
    IvaLimitReached,
    IvaNotFound,
    IvaNotUsable,
    IvaWrongState,
    TooManyVerificationAttempts,
    WrongVerificationCode,
)
from app.ivas.models import STEP_FROM, Iva, IvaState, IvaType
from app.notifications.throttle import TooOften

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


def add(user_id: UUID, type_: IvaType, value: str, max_per_person: int) -> Iva:
    """A new unverified address, if the person has fewer than `max_per_person`."""
    value = value.strip()
    if type_ is IvaType.PHONE:
        value = e164(value)
    _lock_person(user_id)  # two adds at once must not both pass the count
    held = db.session.scalar(select(func.count()).select_from(Iva).where(Iva.user_id == user_id))
    if held >= max_per_person:
        raise IvaLimitReached(
            f"You already have {held} verification addresses, the most allowed "
            f"({max_per_person}). Delete one you no longer use, then add the new one."
        )
    iva = Iva(
        user_id=user_id,
        type=type_.value,
        value=value,
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


def e164(value: str) -> str:
    """The number in E.164 (+4962215420), as GHGA stores it; it must be written with
    its country code, since we cannot know which country a person dials from."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(
            "This is not a phone number we can dial: write it with its country code, "
            "for example +49 6221 5420."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def request_code(iva: Iva, per_day: int) -> None:
    """Ask the stewards for a code: at most `per_day` times in any 24 hours per person,
    over all their addresses. Counted from the audit record (the action writes one per
    request), so neither a restart nor deleting and re-adding an address resets it."""
    _check_state(iva, "request_code")
    _lock_person(iva.user_id)
    since = utc_now() - timedelta(days=1)
    times = db.session.scalars(
        select(AccountEvent.created_at)
        .where(
            AccountEvent.user_id == iva.user_id,
            AccountEvent.action == "iva_code_requested",
            AccountEvent.created_at > since,
        )
        .order_by(AccountEvent.created_at)
    ).all()
    if len(times) >= per_day:
        # Again once the oldest request counted is a day old.
        wait = times[-per_day] - since
        raise TooOften(
            f"You have asked for verification codes too often (at most {per_day} in 24 "
            "hours); a data steward already has your request. Try again later.",
            retry_after=max(1, math.ceil(wait.total_seconds())),
        )
    _set_state(iva, IvaState.CODE_REQUESTED)


def create_code(iva: Iva) -> str:
    """A fresh code for the steward to send; replaces any earlier one."""
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))
    _step(iva, "create_code", IvaState.CODE_CREATED)
    iva.code_hash, iva.attempts, iva.code_created_at = _hash(code), 0, utc_now()
    db.session.flush()
    return code


def code_transmitted(iva: Iva) -> None:
    _step(iva, "code_transmitted", IvaState.CODE_TRANSMITTED)


def verify_code(iva: Iva, code: str, max_attempts: int, valid_days: int) -> None:
    """Verified, or refused: an expired code resets the address (whatever was entered);
    a wrong one is counted, and the `max_attempts`-th resets the address."""
    _check_state(iva, "verify_code")
    if _expired(iva, valid_days):
        _reset(iva)
        raise IvaCodeExpired(
            f"This code has expired: codes work for {valid_days} days after a data steward "
            "creates them. Request a new code."
        )
    if iva.code_hash and hmac.compare_digest(iva.code_hash, _hash(code)):
        iva.code_hash, iva.attempts, iva.code_created_at = None, 0, None
        _set_state(iva, IvaState.VERIFIED)
        return
    iva.attempts += 1
    if iva.attempts >= max_attempts:
        _reset(iva)
        raise TooManyVerificationAttempts()
    db.session.flush()
    left = max_attempts - iva.attempts
    raise WrongVerificationCode(
        f"The verification code is not right; {left} attempt{'s' if left > 1 else ''} left"
    )


def unverify(iva: Iva) -> None:
    """Back to `unverified` from any state: grants bound to it stop at once."""
    _reset(iva)


def _reset(iva: Iva) -> None:
    """Unverified, and the code that was out is gone."""
    iva.code_hash, iva.attempts, iva.code_created_at = None, 0, None
    _set_state(iva, IvaState.UNVERIFIED)


def _expired(iva: Iva, valid_days: int) -> bool:
    # Codes out before the column existed count from the address's last change.
    created = iva.code_created_at or iva.changed_at
    return utc_now() - created > timedelta(days=valid_days)


def _lock_person(user_id: UUID) -> None:
    """Serialise a person's counted steps (adding addresses, asking for codes)."""
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())


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
