"""`invoke demo`: people and a dataset with bytes, to try the portal on a development server.

Development only: it makes active accounts without a provider and gives each a second
factor whose key it prints. Everything goes through the same actions an operator's
commands and the pages use, so the records read as they would.
"""

import time
from dataclasses import dataclass
from uuid import UUID, uuid4

import pyotp
from flask import current_app

from app.accounts import actions as accounts
from app.accounts.errors import UserNotFound
from app.accounts.models import PersonRole, User
from app.accounts.schemas import SignupRequest
from app.accounts.services import find_account
from app.authz import Actor
from app.catalog import services as catalog
from app.catalog.schemas import DatasetPayload
from app.errors import Conflict, Forbidden
from app.second_factor import actions as second_factor
from app.second_factor import totp
from app.transfer.services import import_plaintext
from app.unit_of_work import commit

DATASET = "GHGAD00000000042"
FILE = "GHGAF00000000042"
FILE_TEXT = b"".join(f"sample-{n:04d}\tchr1\t{1000 + n * 37}\tA\tG\n".encode() for n in range(2000))
#: (name, e-mail, role; None: a newcomer waiting for an admin, with no factor yet)
PEOPLE = (
    ("Ada Admin", "admin@demo.example", PersonRole.ADMIN),
    ("Sam Steward", "steward@demo.example", PersonRole.STEWARD),
    ("Rita Researcher", "researcher@demo.example", PersonRole.RESEARCHER),
    ("Pat Newcomer", "newcomer@demo.example", None),
)


class DevelopmentOnly(Forbidden):
    """Refused on a production deployment."""

    code = "development_only"


@dataclass(frozen=True)
class DemoPerson:
    name: str
    email: str
    role: str
    status: str
    totp_key: str | None


def _account(email: str) -> User | None:
    try:
        return find_account(email)
    except UserNotFound:
        return None


def refuse_in_production(what: str) -> None:
    if current_app.extensions["settings"].deployment == "production":
        raise DevelopmentOnly(f"{what} is for development servers only (DEPLOYMENT=production)")


def make_demo() -> list[DemoPerson]:
    """The demo people (each active one with a second factor) and dataset DATASET, whose
    one file has content; refused when they exist already or in production."""
    refuse_in_production("invoke demo")
    if _account(PEOPLE[0][1]) is not None:
        raise Conflict(
            f"The demo exists already ({PEOPLE[0][1]}); remove the instance database to "
            "start afresh, or sign in as its people"
        )
    operator = Actor.operator()
    made = [_person(operator, name, email, role) for name, email, role in PEOPLE]
    _dataset()
    return made


def _person(operator: Actor, name: str, email: str, role: PersonRole | None) -> DemoPerson:
    request = SignupRequest(name=name, email=email)
    user = accounts.create_account(operator, request, admin=role == PersonRole.ADMIN).user
    if role is None:
        return DemoPerson(name, email, user.role, user.status, None)
    if role != PersonRole.ADMIN:
        accounts.accept(operator, user.id)
        accounts.change_role(operator, user.id, role)
    key = totp.new_secret()
    person_actor = Actor.person(user.id, role.value, "cli")
    # The code of the step before now (within the accepted drift): a code counts once,
    # and `invoke totp-code` run at once must still give one that works.
    earlier = pyotp.TOTP(key).at(time.time() - 30)
    second_factor.set_up(person_actor, user, key, earlier, None)
    return DemoPerson(name, email, role.value, "active", key)


def _dataset() -> None:
    payload = DatasetPayload.model_validate(
        {
            "accession": DATASET,
            "title": "Demo: variant calls of a reference sample",
            "stage": "download",
            "description": "One small file with content, for trying downloads end to end.",
            "dac_alias": "DEMO-DAC",
            "dac_email": "dac@demo.example",
            "files": [
                {"accession": FILE, "description": "variant calls", "file_extension": ".tsv"}
            ],
        }
    )
    catalog.upsert_dataset(payload)
    file_id: UUID = uuid4()
    catalog.put_accession_map(FILE, file_id)
    import_plaintext(file_id, iter([FILE_TEXT]))
    commit()


def totp_code(email: str) -> str:
    """The current second-factor code of the person with `email` (development only)."""
    refuse_in_production("invoke totp-code")
    person = _account(email)
    code = totp.current_code(person.id) if person is not None else None
    if code is None:
        raise Conflict(f"{email} has no account with a second factor here")
    return code
