"""TOTP (RFC 6238) second factors: enrolment, verification, recovery codes, reset.

Rules: a code counts once (the time step it belongs to must be later than the
last accepted one); five wrong codes in a row lock the factor for 15 minutes;
replacing a confirmed factor needs a current code (or an admin reset) and
deletes the person's verification addresses, which must then be verified anew.
Services flush but never commit: a caller commits even when a wrong code is
refused, so that the failure is counted.
"""

import hashlib
import hmac
import secrets
import time
from datetime import datetime, timedelta
from uuid import UUID

import pyotp
from sqlalchemy import case, delete, exists, literal, or_, select, update

from app.accounts import credentials
from app.accounts.models import User
from app.authz import person_label
from app.database import insert_ignoring_conflicts, utc_now
from app.extensions import db
from app.ivas import services as ivas
from app.second_factor.errors import (
    EnrolmentOvertaken,
    NoSecondFactor,
    SecondFactorLocked,
    WrongSecondFactorCode,
)
from app.second_factor.models import RecoveryCode, TotpFactor
from app.second_factor.secret_box import UnreadableSecret, open_secret, seal_secret

ISSUER = "Work Package Service"
STEP_SECONDS = 30
#: Steps either side of now that still count (clocks of phones drift).
DRIFT_STEPS = 1
MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_RECOVERY_LENGTH = 16  # ~79 bits: a stolen hash cannot be reversed by trying


def factor_of(user_id: UUID) -> TotpFactor | None:
    return db.session.get(TotpFactor, user_id)


def is_enrolled(user_id: UUID) -> bool:
    factor = factor_of(user_id)
    return factor is not None and factor.secret is not None


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)


def confirm_enrolment(
    user_id: UUID, secret: str, code: str, current_code: str | None = None
) -> tuple[list[str], bool]:
    """Make `secret` the person's second factor; new recovery codes (shown once) and
    whether a confirmed factor was replaced.

    `code` must be the new secret's code for now. Replacing a confirmed factor needs
    `current_code` from it (counted like any code) and goes through `replace_factor`.
    """
    step = _matching_step(secret, "".join(code.split()))
    if step is None:
        # Not counted: guessing the code of a secret one was just shown gains nothing.
        raise WrongSecondFactorCode(
            "The code from the new entry in your app is not right: check the app's clock "
            "and enter the code it shows now."
        )
    factor = factor_of(user_id)
    if factor is None or factor.secret is None:
        return _first_factor(user_id, secret, step), False
    sealed_before = factor.secret  # read before the check, which expires `factor`
    _check(factor, current_code or "", allow_recovery=False)
    return replace_factor(user_id, sealed_before, secret, step), True


def replace_factor(user_id: UUID, sealed_before: str, secret: str, step: int) -> list[str]:
    """The one place a confirmed second factor is replaced (after its current code passed).

    The person's verification addresses go (they must be verified anew) and so do the
    old recovery codes. Refused when another session replaced it in the meantime.
    """
    replaced = db.session.execute(
        update(TotpFactor)
        .where(TotpFactor.user_id == user_id, TotpFactor.secret == sealed_before)
        .values(_confirmed_values(secret, step))
        .execution_options(synchronize_session=False)
    )
    if replaced.rowcount != 1:
        raise EnrolmentOvertaken()
    ivas.delete_all(user_id)
    # Sessions and API tokens made with the old factor end (the caller keeps its own).
    credentials.cut_off(_account(user_id), "second factor replaced", person_label(user_id))
    return _after_confirmation(user_id)


def _first_factor(user_id: UUID, secret: str, step: int) -> list[str]:
    values = _confirmed_values(secret, step)
    row = values | {"user_id": user_id}
    if insert_ignoring_conflicts(db.session, TotpFactor, row, ["user_id"]):
        return _after_confirmation(user_id)
    # A row without a secret (left from before enrolments were kept in the session)
    # may be filled; one with a secret was confirmed by another session meanwhile.
    filled = db.session.execute(
        update(TotpFactor)
        .where(TotpFactor.user_id == user_id, TotpFactor.secret.is_(None))
        .values(values)
        .execution_options(synchronize_session=False)
    )
    if filled.rowcount != 1:
        raise EnrolmentOvertaken()
    return _after_confirmation(user_id)


def _confirmed_values(secret: str, step: int) -> dict:
    return {
        "secret": seal_secret(secret),
        "last_step": step,
        "failures": 0,
        "locked_until": None,
        "confirmed_at": utc_now(),
    }


def _after_confirmation(user_id: UUID) -> list[str]:
    codes = _new_recovery_codes(user_id)
    db.session.flush()
    _forget_loaded(user_id)
    return codes


def verify(user_id: UUID, code: str) -> str:
    """Accept a current TOTP code or an unused recovery code; returns which ("totp"|"recovery")."""
    factor = factor_of(user_id)
    if factor is None or factor.secret is None:
        raise NoSecondFactor()
    return _check(factor, code, allow_recovery=True)


def reset(user_id: UUID, actor: str) -> bool:
    """Admin reset: the factor, its recovery codes and the person's addresses go, and
    every session and API token the person holds ends (whoever has the lost phone may
    have them too). False, and nothing changed, when there is no factor."""
    removed = db.session.execute(delete(TotpFactor).where(TotpFactor.user_id == user_id))
    if not removed.rowcount:
        return False
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    ivas.delete_all(user_id)
    credentials.cut_off(_account(user_id), "second factor reset", actor)
    db.session.flush()
    return True


def _account(user_id: UUID) -> User:
    return db.session.get(User, user_id)


def unused_recovery_codes(user_id: UUID) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def _check(factor: TotpFactor, code: str, allow_recovery: bool) -> str:
    """Accept `code` for `factor` or raise; each decision is one compare-and-set UPDATE.

    What was read into `factor` only answers early while it is locked; whether a
    code counts, and the failure count and lock, are decided by statements that
    check the row as it is when they run (see ADR 0014, race-free checks).
    """
    _refuse_while_locked(factor.locked_until)
    normalised = "".join(code.split())
    if normalised.isdigit() and len(normalised) == 6:
        secret = _readable(factor.secret)
        step = _matching_step(secret, normalised) if secret else None
        if step is not None and _accept_step(factor.user_id, step):
            return "totp"
    elif allow_recovery and _spend_recovery_code(factor.user_id, normalised):
        _clear_failures(factor.user_id)
        return "recovery"
    _count_failure(factor.user_id)


def _unlocked(now: datetime):
    return or_(TotpFactor.locked_until.is_(None), TotpFactor.locked_until <= now)


def _accept_step(user_id: UUID, step: int) -> bool:
    """Only one request can move `last_step` to `step`: a code counts once."""
    accepted = db.session.execute(
        update(TotpFactor)
        .where(TotpFactor.user_id == user_id, TotpFactor.last_step < step, _unlocked(utc_now()))
        .values(last_step=step, failures=0)
        .execution_options(synchronize_session=False)
    )
    _forget_loaded(user_id)
    return accepted.rowcount == 1


def _clear_failures(user_id: UUID) -> None:
    db.session.execute(
        update(TotpFactor)
        .where(TotpFactor.user_id == user_id)
        .values(failures=0)
        .execution_options(synchronize_session=False)
    )
    _forget_loaded(user_id)


def _refuse_while_locked(locked_until: datetime | None) -> None:
    if locked_until is not None and locked_until > utc_now():
        raise SecondFactorLocked(locked_until)


def _count_failure(user_id: UUID):
    """One more wrong code, counted in SQL; the one that reaches MAX_FAILURES locks."""
    now = utc_now()
    reaches_limit = TotpFactor.failures + 1 >= MAX_FAILURES
    lock_until = literal(now + LOCK_TIME, TotpFactor.locked_until.type)
    counted = db.session.execute(
        update(TotpFactor)
        .where(TotpFactor.user_id == user_id, _unlocked(now))
        .values(
            failures=case((reaches_limit, 0), else_=TotpFactor.failures + 1),
            locked_until=case((reaches_limit, lock_until), else_=TotpFactor.locked_until),
        )
        .returning(TotpFactor.locked_until, TotpFactor.failures)
        .execution_options(synchronize_session=False)
    ).first()
    _forget_loaded(user_id)
    if counted is None:  # locked meanwhile by another request
        locked_until = db.session.scalar(
            select(TotpFactor.locked_until).where(TotpFactor.user_id == user_id)
        )
        raise SecondFactorLocked(locked_until or now + LOCK_TIME)
    if counted.locked_until is not None and counted.locked_until > now:
        raise SecondFactorLocked(counted.locked_until, just_locked=True)
    left = MAX_FAILURES - counted.failures
    minutes = int(LOCK_TIME.total_seconds() // 60)
    raise WrongSecondFactorCode(
        "The code is not right, or it was already used. "
        + (
            f"{left} more wrong codes lock your second factor for {minutes} minutes."
            if left > 1
            else f"One more wrong code locks your second factor for {minutes} minutes."
        )
    )


def _forget_loaded(user_id: UUID) -> None:
    """The statements above bypass the loaded object: read it afresh next time."""
    loaded = db.session.identity_map.get(db.session.identity_key(TotpFactor, user_id))
    if loaded is not None:
        db.session.expire(loaded)


def _matching_step(secret: str, code: str) -> int | None:
    """The time step (near now) whose code is `code`, compared in constant time."""
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now_step = int(time.time()) // STEP_SECONDS
    found = None
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def current_code(user_id: UUID) -> str | None:
    """The code the person's authenticator shows now (development aid: `invoke totp-code`)."""
    factor = factor_of(user_id)
    secret = _readable(factor.secret) if factor is not None else None
    return pyotp.TOTP(secret).now() if secret else None


def _readable(sealed: str | None) -> str | None:
    if sealed is None:
        return None
    try:
        return open_secret(sealed)
    except UnreadableSecret:
        return None


def _hash_recovery_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").lower().encode()).hexdigest()


def _new_recovery_codes(user_id: UUID) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        code = "-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4))
        db.session.add(RecoveryCode(user_id=user_id, code_hash=_hash_recovery_code(code)))
        codes.append(code)
    return codes


def _spend_recovery_code(user_id: UUID, code: str) -> bool:
    """Only one request can mark the code used, and none while the factor is locked."""
    if len(code.replace("-", "")) != _RECOVERY_LENGTH:
        return False
    now = utc_now()
    locked = exists().where(TotpFactor.user_id == user_id, ~_unlocked(now))
    spent = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == _hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
            ~locked,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return spent.rowcount == 1
