"""One action, every channel (ADR 23): access requests, grants and work packages.

Each action is driven through every channel that offers it, on fresh identical
data (one test per channel), and each must leave the same state, the same audit
record (its channel the channel's own) and tell the same people the same thing,
through a real SMTP server and webhook receiver.
"""

import base64
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as email_policy

import pytest
from nacl.public import PrivateKey
from sqlalchemy import select

from app.access.models import AccessGrant, AccessRequest
from app.accounts.models import AccountEvent
from app.work_packages.models import WorkPackage, WorkPackageFile
from tests.support.factories import ApplicationKeyFactory, create_dataset, grant, verified_iva
from tests.support.people import make_person
from tests.support.users import Researcher
from tests.support.web_sessions import browser_client, read_page, sign_in, submit
from tests.test_cli import invoke

REQUESTER = "rae@example.org"
UNTIL = datetime(2030, 6, 30, tzinfo=UTC)
NOTE = "Ask your PI first"


@pytest.fixture
def world(told_app, receivers):
    """The requester (with a verified address), a steward, a DS1 dataset, the receivers."""
    webhook, mail = receivers
    with told_app.app_context():
        create_dataset("DS1", files=2)
        requester = Researcher(told_app, email=REQUESTER)
        make_person(role="researcher", user_id=requester.id, email=REQUESTER)
        steward = Researcher(told_app, email="sam@example.org")
        make_person(role="steward", user_id=steward.id, email=steward.email)
        iva = verified_iva(requester.id)
        yield World(told_app, requester, steward, iva.id, webhook, mail)


class World:
    def __init__(self, app, requester, steward, iva_id, webhook, mail):
        self.app, self.requester, self.steward, self.iva_id = app, requester, steward, iva_id
        self.webhook, self.mail = webhook, mail
        self.client = app.test_client()

    def key(self) -> dict:
        return {"Workflow-API-Key": ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key}

    def page_as(self, person_id):
        from app.accounts.models import User
        from app.extensions import db

        browser = browser_client(self.app)
        sign_in(browser, db.session.get(User, person_id))
        return browser

    def ask(self) -> str:
        asked = self.client.post(
            "/access-requests", json={"dataset_id": "DS1"}, headers=self.requester.headers()
        )
        assert asked.status_code == 201, asked.json
        return asked.json["id"]

    def mails(self) -> list[tuple]:
        told = []
        for envelope in self.mail.messages:
            message = message_from_bytes(envelope.content, policy=email_policy)
            told.append(
                (
                    envelope.rcpt_tos,
                    message["Subject"],
                    message.get_content().replace("\r\n", "\n").strip(),
                )
            )
        return told

    def audit(self, user_id) -> list[tuple]:
        from app.extensions import db

        db.session.rollback()
        events = db.session.scalars(
            select(AccountEvent)
            .where(AccountEvent.user_id == user_id, ~AccountEvent.action.like("iva_%"))
            .order_by(AccountEvent.created_at)
        )
        return [(e.action, e.actor.split(":")[0], e.channel, e.detail) for e in events]


# --- deciding an access request ---------------------------------------------------


def decide_over_api(world, headers, request_id, outcome):
    body = {"note": NOTE}
    if outcome == "allow":
        body |= {"valid_until": UNTIL.isoformat(), "iva_id": str(world.iva_id)}
    return world.client.post(f"/access-requests/{request_id}/{outcome}", json=body, headers=headers)


def decide_with_key(world, request_id, outcome):
    return decide_over_api(world, world.key(), request_id, outcome), "application", "api"


def decide_with_persons_token(world, request_id, outcome):
    # A steward's token made after the second factor (the `amr` claim).
    return decide_over_api(world, world.steward.headers(), request_id, outcome), "user", "api"


def decide_on_the_page(world, request_id, outcome):
    browser = world.page_as(world.steward.id)
    if outcome == "allow":
        form = {
            f"{request_id}-valid_until": UNTIL.date().isoformat(),
            f"{request_id}-note": NOTE,
            f"{request_id}-iva_id": str(world.iva_id),
        }
    else:
        form = {"note": NOTE}
    url = f"/steward/access-requests/{request_id}/{outcome}"
    return submit(browser, "/steward/access-requests", url, form), "user", "web"


DECIDERS = [decide_with_key, decide_with_persons_token, decide_on_the_page]


@pytest.mark.parametrize("outcome", ["allow", "deny"])
@pytest.mark.parametrize("decide", DECIDERS, ids=lambda f: f.__name__)
def test_a_decision_is_the_same_on_every_channel_and_the_requester_is_told(world, decide, outcome):
    from app.extensions import db

    request_id = world.ask()
    answer, actor_kind, channel = decide(world, request_id, outcome)

    assert answer.status_code in (200, 302), answer.get_data(as_text=True)
    db.session.rollback()
    decided = db.session.get(AccessRequest, request_id)
    status = {"allow": "allowed", "deny": "denied"}[outcome]
    assert (decided.status, decided.decision_note) == (status, NOTE)
    assert decided.decided_by.split(":")[0] == actor_kind
    grants = db.session.scalars(select(AccessGrant)).all()
    if outcome == "allow":
        (made,) = grants
        assert (made.user_id, made.dataset_accession, made.valid_until, made.iva_id) == (
            world.requester.id, "DS1", UNTIL, world.iva_id,
        )  # fmt: skip
        assert made.granted_by == decided.decided_by
        assert decided.grant_id == made.id
    else:
        assert grants == []
    assert world.audit(world.requester.id) == [
        (f"access_request_{status}", actor_kind, channel, "download access to DS1")
    ]
    assert world.mails() == [
        (
            [REQUESTER],
            f"Your access request was {status}",
            f"Your request for download access to DS1 was {status}.\n\n"
            f"Note from the data steward: {NOTE}",
        )
    ]


@pytest.mark.parametrize(
    "decide", [decide_with_persons_token, decide_on_the_page], ids=lambda f: f.__name__
)
def test_nobody_decides_their_own_request_on_any_channel(world, decide):
    """Four eyes: the steward's own request is refused with the same code and sentence."""
    from app.extensions import db

    own = world.client.post(
        "/access-requests", json={"dataset_id": "DS1"}, headers=world.steward.headers()
    ).json["id"]

    answer, _, _ = decide(world, own, "deny")

    assert answer.status_code == 403
    text = answer.json["detail"] if answer.is_json else read_page(answer).text
    assert "You cannot decide your own access request: another data steward" in text
    if answer.is_json:
        assert answer.json["code"] == "own_access_request"
    db.session.rollback()
    assert db.session.get(AccessRequest, own).status == "pending"
    assert world.audit(world.steward.id) == [] and world.mails() == []


# --- making an access request -----------------------------------------------------


def ask_over_api(world):
    body = {"dataset_id": "DS1", "note": "For my thesis"}
    return world.client.post("/access-requests", json=body, headers=world.requester.headers())


def ask_on_the_page(world):
    browser = world.page_as(world.requester.id)
    return submit(browser, "/catalog/DS1", "/catalog/DS1/request-access", {"note": "For my thesis"})


@pytest.mark.parametrize("ask", [ask_over_api, ask_on_the_page], ids=lambda f: f.__name__)
def test_an_access_request_is_the_same_on_every_channel_and_the_stewards_hear_once(world, ask):
    from app.extensions import db

    first, again = ask(world), ask(world)

    assert {first.status_code, again.status_code} <= {201, 302}
    db.session.rollback()
    made = db.session.scalars(select(AccessRequest).order_by(AccessRequest.created_at)).all()
    assert [
        (r.status, r.kind, r.user_id, r.user_email, r.dataset_accession, r.note) for r in made
    ] == [("pending", "download", world.requester.id, REQUESTER, "DS1", "For my thesis")] * 2
    # Asking again for the same dataset does not ping the stewards again (ADR 22).
    assert world.webhook.texts == [
        f"Access request {made[0].id}: {REQUESTER} asks for download access to DS1"
    ]
    assert world.audit(world.requester.id) == [] and world.mails() == []


# --- creating and revoking grants -------------------------------------------------


def grant_body(world) -> dict:
    return {
        "user_id": str(world.requester.id),
        "dataset_id": "DS1",
        "valid_until": "2030-06-30T00:00:00Z",
    }


def grant_with_key(world):
    made = world.client.post("/access-grants", json=grant_body(world), headers=world.key())
    return made.status_code, "application", "api"


def grant_with_persons_token(world):
    made = world.client.post(
        "/access-grants", json=grant_body(world), headers=world.steward.headers()
    )
    return made.status_code, "user", "api"


def grant_with_invoke(world):
    ran = invoke(
        "grant-access", "--user-id", str(world.requester.id), "--dataset", "DS1",
        "--days", "30", instance_path=world.app.instance_path,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return 201, "operator", "cli"


@pytest.mark.parametrize(
    "make", [grant_with_key, grant_with_persons_token, grant_with_invoke], ids=lambda f: f.__name__
)
def test_a_grant_is_made_the_same_on_every_channel(world, make):
    from app.extensions import db

    status, actor_kind, channel = make(world)

    assert status == 201
    db.session.rollback()
    (made,) = db.session.scalars(select(AccessGrant)).all()
    assert (made.kind, made.user_id, made.dataset_accession, made.revoked_at) == (
        "download", world.requester.id, "DS1", None,
    )  # fmt: skip
    assert made.granted_by.split(":")[0] == actor_kind
    assert world.audit(world.requester.id) == [
        ("grant_created", actor_kind, channel, "download access to DS1")
    ]
    assert world.mails() == []


def revoke_with_key(world, grant_id):
    return (
        world.client.delete(f"/access-grants/{grant_id}", headers=world.key()),
        "application",
        "api",
    )


def revoke_with_persons_token(world, grant_id):
    answer = world.client.delete(f"/access-grants/{grant_id}", headers=world.steward.headers())
    return answer, "user", "api"


def revoke_on_the_page(world, grant_id):
    browser = world.page_as(world.steward.id)
    answer = submit(browser, "/steward/grants", f"/steward/grants/{grant_id}/revoke")
    return answer, "user", "web"


@pytest.mark.parametrize(
    "revoke",
    [revoke_with_key, revoke_with_persons_token, revoke_on_the_page],
    ids=lambda f: f.__name__,
)
def test_a_grant_is_revoked_the_same_on_every_channel(world, revoke):
    from app.extensions import db

    given = grant(world.requester.id, dataset="DS1")

    answer, actor_kind, channel = revoke(world, given.id)

    assert answer.status_code in (204, 302)
    db.session.rollback()
    assert db.session.get(AccessGrant, given.id).revoked_at is not None
    assert world.audit(world.requester.id) == [
        ("grant_revoked", actor_kind, channel, "download access to DS1")
    ]
    assert world.mails() == []


# --- creating a work package ------------------------------------------------------


def public_key() -> str:
    return base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()


def package_over_api(world):
    body = {
        "type": "download",
        "dataset_id": "DS1",
        "file_ids": ["GHGAFDS10001"],
        "user_public_crypt4gh_key": public_key(),
    }
    return world.client.post("/work-packages", json=body, headers=world.requester.headers())


def package_on_the_page(world):
    browser = world.page_as(world.requester.id)
    form = {
        "dataset_id": "DS1",
        "file_ids": "GHGAFDS10001",
        "user_public_crypt4gh_key": public_key(),
    }
    return submit(browser, "/my-work-packages", "/my-work-packages/download", form)


@pytest.mark.parametrize(
    "create", [package_over_api, package_on_the_page], ids=lambda f: f.__name__
)
def test_a_work_package_is_made_the_same_on_every_channel(world, create):
    from app.extensions import db

    grant(world.requester.id, dataset="DS1")

    answer = create(world)

    assert answer.status_code in (200, 201), answer.get_data(as_text=True)
    db.session.rollback()
    (package,) = db.session.scalars(select(WorkPackage)).all()
    assert (package.type, package.user_id, package.email, package.dataset_accession) == (
        "download", world.requester.id, REQUESTER, "DS1",
    )  # fmt: skip
    files = db.session.scalars(select(WorkPackageFile.accession)).all()
    assert files == ["GHGAFDS10001"]
    assert world.audit(world.requester.id) == [] and world.mails() == []


# --- the actions themselves -------------------------------------------------------


def test_nobody_asks_for_access_or_makes_a_package_in_someone_elses_name(world):
    """Every channel passes the person acting; an action handed someone else refuses."""
    from app.access import actions as access
    from app.access.requests.schemas import AccessRequestCreation
    from app.authz import Actor
    from app.credentials.internal_tokens import AuthUser
    from app.errors import Forbidden
    from app.extensions import db
    from app.work_packages import actions as packages
    from app.work_packages.schemas import CreationRequest

    grant(world.requester.id, dataset="DS1")
    someone_else = Actor.person(world.steward.id, "steward", "web")
    rae = AuthUser(id=world.requester.id, name="Rae", email=REQUESTER, title=None)
    package = {"type": "download", "dataset_id": "DS1", "user_public_crypt4gh_key": public_key()}

    with pytest.raises(Forbidden):
        access.make_request(someone_else, rae, AccessRequestCreation(dataset_id="DS1"))
    with pytest.raises(Forbidden):
        packages.create_work_package(someone_else, rae, CreationRequest.model_validate(package))

    db.session.rollback()
    assert db.session.scalars(select(AccessRequest)).all() == []
    assert db.session.scalars(select(WorkPackage)).all() == []
    assert world.webhook.texts == [] and world.mails() == []


def test_a_steward_asking_for_an_address_is_recorded_and_the_requester_is_e_mailed(world):
    from app.extensions import db

    request_id = world.ask()
    browser = world.page_as(world.steward.id)
    url = f"/steward/access-requests/{request_id}/ask-for-address"

    answer = submit(browser, "/steward/access-requests", url)

    assert answer.status_code == 302
    db.session.rollback()
    assert db.session.get(AccessRequest, request_id).address_asked_at is not None
    assert world.audit(world.requester.id) == [
        ("verification_address_asked", "user", "web", "download access to DS1")
    ]
    ((recipients, subject, body),) = world.mails()
    assert (recipients, subject) == (
        [REQUESTER],
        "Add a verification address for your access request",
    )
    assert "/verification-addresses" in body and "DS1" in body
