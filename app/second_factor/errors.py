from datetime import datetime

from app.authz.errors import SecondFactorRequired
from app.errors import Conflict, DomainError

# Decided at the doors (app/authz); named here too, where the factor's errors are looked for.
__all__ = ["SecondFactorRequired"]


class WrongSecondFactorCode(DomainError):
    """The code is not right, or it was already used."""

    status, code = 400, "wrong_second_factor_code"


class SecondFactorLocked(DomainError):
    """Too many wrong codes: the second factor is locked for a while."""

    status, code = 429, "second_factor_locked"

    def __init__(self, until: datetime, just_locked: bool = False):
        super().__init__(
            "Too many wrong codes in a row: your second factor is locked until "
            f"{until:%H:%M} UTC. The administrators have been told."
        )
        self.until = until
        #: True for the attempt that locked it, so the caller tells people once.
        self.just_locked = just_locked

    def headers(self) -> dict:
        return {"Retry-After": "900"}


class NoSecondFactor(Conflict):
    """No second factor is set up for this account yet."""

    code = "no_second_factor"


class NoEnrolment(Conflict):
    """No new key is waiting for confirmation in this browser session."""

    code = "no_enrolment"


class EnrolmentOvertaken(Conflict):
    """The second factor was set up or replaced in another session meanwhile."""

    code = "enrolment_overtaken"

    @classmethod
    def default_detail(cls) -> str:
        return (
            "Your second factor was set up or replaced in another session meanwhile. "
            "Start again from this page; if that was not you, report it to the administrators."
        )
