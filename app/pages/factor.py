"""The second factor on the way, not in the way: the link a page shows to a person
who has not passed it in this session, and that brings them back (`next=`)."""

from dataclasses import dataclass

from flask import request, url_for

from app.authz.levels import session_fully_authenticated
from app.authz.sessions import current_person
from app.identity.next_path import safe_next
from app.second_factor import totp


@dataclass(frozen=True)
class FactorStep:
    """What the person does next: set up a factor, or enter a code from the one they have."""

    enrolled: bool
    url: str

    @property
    def label(self) -> str:
        return "Enter your code" if self.enrolled else "Set up your second factor"


def factor_step(next_path: str | None = None) -> FactorStep | None:
    """None when the session passed the second factor (or needs none); else the step,
    leading back to `next_path` (by default this page)."""
    person = current_person()
    if person is None or session_fully_authenticated():
        return None
    back = safe_next(next_path or request.full_path.rstrip("?"))
    enrolled = totp.is_enrolled(person.id)
    endpoint = "second_factor.verify" if enrolled else "second_factor.setup"
    return FactorStep(enrolled, url_for(endpoint, next=back))
