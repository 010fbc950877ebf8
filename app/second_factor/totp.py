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
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pyotp
from sqlalchemy import delete, select

from app.accounts import credentials
from app.accounts.models import User
from app.database import utc_now
from app.extensions import db
from app.ivas import services as ivas
from app.second_factor.errors import (
    NoEnrolment,
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


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    replaces_existing: bool


def factor_of(user_id: UUID) -> TotpFactor | None:
    return db.session.get(TotpFactor, user_id)


def is_enrolled(user_id: UUID) -> bool:
    factor = factor_of(user_id)
    return factor is not None and factor.secret is not None


def start_enrolment(user_id: UUID, account_name: str) -> Enrolment:
    """A new secret waiting for its first code; the current factor stays until then.

    Calling again while one waits returns the same secret (a reloaded page still
    matches what the phone scanned).
    """
    factor = db.session.get(TotpFactor, user_id, with_for_update=True)
    if factor is None:
        factor = TotpFactor(user_id=user_id, last_step=0, failures=0)
        db.session.add(factor)
    secret = _readable(factor.pending_secret)
    if secret is None:
        secret = pyotp.random_base32()
        factor.pending_secret = seal_secret(secret)
    db.session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)
    return Enrolment(secret, uri, replaces_existing=factor.secret is not None)


def confirm_enrolment(user_id: UUID, code: str, current_code: str | None = None) -> list[str]:
    """Make the waiting secret the second factor; returns new recovery codes (once).

    Replacing a confirmed factor needs `current_code` from it, and deletes the
    person's verification addresses.
    """
    factor = db.session.get(TotpFactor, user_id, with_for_update=True)
    pending = _readable(factor.pending_secret) if factor else None
    if pending is None:
        raise NoEnrolment()
    replacing = factor.secret is not None
    if replacing:
        _check(factor, current_code or "", allow_recovery=False)
    _refuse_while_locked(factor)
    step = _matching_step(pending, code)
    if step is None:
        _count_failure(factor)
    factor.secret, factor.pending_secret = factor.pending_secret, None
    factor.last_step, factor.failures, factor.locked_until = step, 0, None
    factor.confirmed_at = utc_now()
    if replacing:
        ivas.delete_all(user_id)
        # Sessions and API tokens made with the old factor end (the caller keeps its own).
        credentials.cut_off(_account(user_id), "second factor replaced", f"user:{user_id}")
    codes = _new_recovery_codes(user_id)
    db.session.flush()
    return codes


def verify(user_id: UUID, code: str) -> str:
    """Accept a current TOTP code or an unused recovery code; returns which ("totp"|"recovery")."""
    factor = db.session.get(TotpFactor, user_id, with_for_update=True)
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
    _refuse_while_locked(factor)
    normalised = "".join(code.split())
    if normalised.isdigit() and len(normalised) == 6:
        secret = _readable(factor.secret)
        step = _matching_step(secret, normalised) if secret else None
        if step is not None and step > factor.last_step:
            factor.last_step, factor.failures = step, 0
            db.session.flush()
            return "totp"
    elif allow_recovery and _spend_recovery_code(factor.user_id, normalised):
        factor.failures = 0
        db.session.flush()
        return "recovery"
    _count_failure(factor)


def _refuse_while_locked(factor: TotpFactor) -> None:
    if factor.locked_until is not None and factor.locked_until > utc_now():
        raise SecondFactorLocked(factor.locked_until)


def _count_failure(factor: TotpFactor):
    factor.failures += 1
    db.session.flush()
    if factor.failures >= MAX_FAILURES:
        factor.failures = 0
        factor.locked_until = utc_now() + LOCK_TIME
        db.session.flush()
        raise SecondFactorLocked(factor.locked_until, just_locked=True)
    raise WrongSecondFactorCode()


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
    if len(code.replace("-", "")) != _RECOVERY_LENGTH:
        return False
    record = db.session.scalars(
        select(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == _hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    ).first()
    if record is None:
        return False
    record.used_at = utc_now()
    return True
