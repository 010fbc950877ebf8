"""One action, every channel: each step of a verification address, taken through the
JSON API (the person's own token, a DATA_STEWARD key, a steward's token) and through
the pages (the person's and the stewards'), on fresh identical data, leaves the same
address, the same audit record and the same notices (webhook and e-mail)."""

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import select

from app.accounts.models import AccountEvent, User
from app.database import utc_now
from app.extensions import db
from app.ivas.models import Iva
from tests.support.factories import ApplicationKeyFactory
from tests.support.people import make_person
from tests.support.users import Researcher
from tests.support.web_sessions import browser_client, sign_in, submit

CODE = "ABCD2345"
MINE = "/verification-addresses"
QUEUE = "/steward/verification-addresses"


@dataclass
class World:
    """Fresh for every channel: the address's owner, a steward, a key, maybe an address."""

    app: object
    owner: User
    steward: User
    key: str
    iva_id: str | None = None

    def token(self, person: User) -> dict:
        caller = Researcher(self.app, id=person.id, name=person.name, email=person.email)
        return caller.headers()

    def browser(self, person: User):
        client = browser_client(self.app)
        sign_in(client, person)
        return client


def api_post(step: str, who: str, **body) -> Callable:
    def call(world: World):
        headers = _api_headers(world, who)
        return world.app.test_client().post(
            f"/rpc/ivas/{world.iva_id}/{step}", json=body or None, headers=headers
        )

    return call


def api_add(world: World):
    return world.app.test_client().post(
        f"/users/{world.owner.id}/ivas",
        json={"type": "postal_address", "value": " Im Neuenheimer Feld 280 "},
        headers=world.token(world.owner),
    )


def api_delete(who: str) -> Callable:
    def call(world: World):
        return world.app.test_client().delete(
            f"/users/{world.owner.id}/ivas/{world.iva_id}", headers=_api_headers(world, who)
        )

    return call


def _api_headers(world: World, who: str) -> dict:
    if who == "key":
        return {"Workflow-API-Key": world.key}
    return world.token(world.owner if who == "owner" else world.steward)


def page_add(world: World):
    data = {"type": "postal_address", "value": " Im Neuenheimer Feld 280 "}
    return submit(world.browser(world.owner), MINE, MINE, data)


def page_mine(step: str, **data) -> Callable:
    def call(world: World):
        return submit(world.browser(world.owner), MINE, f"{MINE}/{world.iva_id}/{step}", data)

    return call


def page_queue(step: str) -> Callable:
    def call(world: World):
        client = world.browser(world.steward)
        return submit(client, f"{QUEUE}?show=all", f"{QUEUE}/{world.iva_id}/{step}")

    return call


@dataclass(frozen=True)
class Step:
    name: str
    #: (state, attempts) the address starts in; None: there is none yet.
    start: tuple[str, int] | None
    #: variant -> (how, expected status)
    channels: dict[str, tuple[Callable, int]]
    #: The steward is the address's owner (four eyes).
    own: bool = False
    #: Days since the steward created the code that is out.
    code_age: int = 0


STEWARDS = {"api:key": "key", "api:steward": "steward"}

STEPS = [
    Step("add", None, {"api:owner": (api_add, 201), "web:owner": (page_add, 302)}),
    Step(
        "request code",
        ("unverified", 0),
        {
            "api:owner": (api_post("request-code", "owner"), 204),
            "web:owner": (page_mine("request-code"), 302),
        },
    ),
    Step(
        "create code",
        ("code_requested", 0),
        {v: (api_post("create-code", who), 201) for v, who in STEWARDS.items()}
        | {"web:steward": (page_queue("create-code"), 200)},
    ),
    Step(
        "mark code transmitted",
        ("code_created", 0),
        {v: (api_post("code-transmitted", who), 204) for v, who in STEWARDS.items()}
        | {"web:steward": (page_queue("transmitted"), 302)},
    ),
    Step(
        "verify",
        ("code_transmitted", 0),
        {
            "api:owner": (api_post("verify-code", "owner", verification_code=CODE.lower()), 204),
            "web:owner": (page_mine("verify", code=CODE.lower()), 302),
        },
    ),
    Step(
        "a wrong code",
        ("code_transmitted", 0),
        {
            "api:owner": (api_post("verify-code", "owner", verification_code="WRONG"), 403),
            "web:owner": (page_mine("verify", code="WRONG"), 303),
        },
    ),
    Step(
        "the last allowed wrong code resets",
        ("code_transmitted", 9),  # MAX_IVA_VERIFICATION_ATTEMPTS: 10
        {
            "api:owner": (api_post("verify-code", "owner", verification_code="WRONG"), 429),
            "web:owner": (page_mine("verify", code="WRONG"), 303),
        },
    ),
    Step(
        "an expired code resets",
        ("code_transmitted", 0),
        {
            "api:owner": (api_post("verify-code", "owner", verification_code=CODE), 410),
            "web:owner": (page_mine("verify", code=CODE), 303),
        },
        code_age=8,  # IVA_CODE_VALID_DAYS: 7
    ),
    Step(
        "unverify",
        ("verified", 0),
        {v: (api_post("unverify", who), 204) for v, who in STEWARDS.items()}
        | {"web:steward": (page_queue("unverify"), 302)},
    ),
    Step(
        "delete (the person)",
        ("verified", 0),
        {"api:owner": (api_delete("owner"), 204), "web:owner": (page_mine("delete"), 302)},
    ),
    Step(
        "delete (a steward)",
        ("verified", 0),
        {v: (api_delete(who), 204) for v, who in STEWARDS.items()},
    ),
    Step(
        "no code for one's own address",
        ("code_requested", 0),
        {
            "api:steward": (api_post("create-code", "steward"), 403),
            "web:steward": (page_queue("create-code"), 403),
        },
        own=True,
    ),
    Step(
        "no sending one's own code",
        ("code_created", 0),
        {
            "api:steward": (api_post("code-transmitted", "steward"), 403),
            "web:steward": (page_queue("transmitted"), 403),
        },
        own=True,
    ),
]


@dataclass
class Outcome:
    """What a channel left behind, with ids, names and addresses made comparable."""

    address: dict | None
    audit: list[tuple[str, str]]
    actors: list[str]
    channels: list[str]
    notices: list[str]


def fresh_world(app, step: Step) -> World:
    steward = make_person(name="Sam Steward", role="steward")
    owner = steward if step.own else make_person(name="Ada Lovelace")
    world = World(app, owner, steward, ApplicationKeyFactory(permissions=("DATA_STEWARD",)).key)
    if step.start is not None:
        state, attempts = step.start
        iva = Iva(
            user_id=owner.id,
            type="postal_address",
            value="Im Neuenheimer Feld 280",
            state=state,
            attempts=attempts,
            code_hash=_hash(CODE) if state in ("code_created", "code_transmitted") else None,
            code_created_at=utc_now() - timedelta(days=step.code_age),
        )
        db.session.add(iva)
        db.session.commit()
        world.iva_id = str(iva.id)
    return world


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def outcome(world: World, webhook_seen: list[str], mail_seen: list) -> Outcome:
    db.session.rollback()  # read what the channel committed, nothing cached
    ivas = db.session.scalars(select(Iva).where(Iva.user_id == world.owner.id)).all()
    assert len(ivas) <= 1
    iva = ivas[0] if ivas else None
    iva_id = world.iva_id or (str(iva.id) if iva else "none")
    events = db.session.scalars(
        select(AccountEvent)
        .where(AccountEvent.user_id == world.owner.id)
        .order_by(AccountEvent.created_at)
    ).all()
    same = _normaliser(world, iva_id)
    mails = [message_from_bytes(m.content, policy=default_policy) for m in mail_seen]
    return Outcome(
        address=None
        if iva is None
        else {
            "type": iva.type,
            "value": iva.value,
            "state": iva.state,
            "attempts": iva.attempts,
            "code_out": iva.code_hash is not None,
        },
        audit=[(e.action, same(e.detail)) for e in events],
        actors=[same(e.actor) for e in events],
        channels=[e.channel for e in events],
        notices=sorted(
            [f"webhook: {same(text)}" for text in webhook_seen]
            + [
                f"mail to {same(','.join(m['To'].split()))}: {m['Subject']}: "
                + same(m.get_content().strip())
                for m in mails
            ]
        ),
    )


def _normaliser(world: World, iva_id: str) -> Callable[[str], str]:
    names = {
        iva_id: "<iva>",
        str(world.owner.id): "<owner>",
        str(world.steward.id): "<steward>",
        world.owner.email: "<owner-mail>",
    }
    pattern = re.compile("|".join(re.escape(n) for n in names))
    return lambda text: pattern.sub(lambda found: names[found.group(0)], text)


#: The actor label each variant leaves in the audit record, and its channel.
ACTOR = {
    "api:owner": ("user:<owner>", "api"),
    "web:owner": ("user:<owner>", "web"),
    "api:key": ("application:", "api"),
    "api:steward": ("user:<steward>", "api"),
    "web:steward": ("user:<steward>", "web"),
}


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_every_channel_leaves_the_same_address_record_and_notices(told_app, receivers, step):
    webhook, mail = receivers
    outcomes = {}
    with told_app.app_context():
        for variant, (how, status) in step.channels.items():
            world = fresh_world(told_app, step)
            heard, mailed = len(webhook.texts), len(mail.messages)
            answer = how(world)
            assert answer.status_code == status, (variant, answer.get_data(as_text=True)[:500])
            outcomes[variant] = outcome(world, webhook.texts[heard:], mail.messages[mailed:])

    first = next(iter(outcomes.values()))
    for variant, seen in outcomes.items():
        assert (seen.address, seen.audit, seen.notices) == (
            first.address,
            first.audit,
            first.notices,
        ), variant
        label, channel = ACTOR[variant]
        assert all(actor.startswith(label) for actor in seen.actors), (variant, seen.actors)
        if label.startswith("user:<"):
            assert all(actor == label for actor in seen.actors), (variant, seen.actors)
        assert set(seen.channels) <= {channel}, (variant, seen.channels)
    assert EXPECTED[step.name] == (first.address and first.address["state"], first.audit)
    assert len(first.notices) == NOTICES[step.name], first.notices


EXPECTED = {
    "add": ("unverified", [("iva_added", "postal_address <iva>")]),
    "request code": ("code_requested", [("iva_code_requested", "<iva>")]),
    "create code": ("code_created", [("iva_code_created", "<iva>")]),
    "mark code transmitted": ("code_transmitted", [("iva_code_transmitted", "<iva>")]),
    "verify": ("verified", [("iva_verified", "<iva>")]),
    "a wrong code": ("code_transmitted", []),
    "the last allowed wrong code resets": (
        "unverified",
        [("iva_reset_after_wrong_codes", "<iva>")],
    ),
    "an expired code resets": ("unverified", [("iva_code_expired", "<iva>")]),
    "unverify": ("unverified", [("iva_unverified", "<iva>")]),
    "delete (the person)": (None, [("iva_deleted", "<iva>")]),
    "delete (a steward)": (None, [("iva_deleted", "<iva>")]),
    "no code for one's own address": ("code_requested", []),
    "no sending one's own code": ("code_created", []),
}
#: How many messages (webhook posts and e-mails) each step sends.
NOTICES = {
    "add": 0,
    "request code": 1,  # the stewards' webhook
    "create code": 0,
    "mark code transmitted": 1,  # the person's e-mail
    "verify": 2,  # the person's e-mail and the stewards' webhook
    "a wrong code": 0,
    "the last allowed wrong code resets": 2,
    "an expired code resets": 0,
    "unverify": 1,
    "delete (the person)": 0,
    "delete (a steward)": 0,
    "no code for one's own address": 0,
    "no sending one's own code": 0,
}
