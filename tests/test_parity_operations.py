"""Channel parity for operations (ADR 0023): dead feed events, maintenance, application keys.

Each action is done through every channel that offers it, on fresh identical data,
and must leave the same state, the same audit line (`wps.audit`: action, kind of
actor, detail; the channel is the channel's own) and the same enqueued effect
(Celery is eager here: a replayed event is applied, resumed jobs run).
"""

import json
import logging
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.accounts.models import PersonRole
from app.authz.application_keys import role_models
from app.catalog import services as catalog
from app.catalog.models import Dataset
from app.extensions import db as _db
from app.feeds import intake
from app.feeds import services as feeds
from app.feeds.models import EventStatus, InboxEvent
from app.feeds.schemas import EventEnvelope
from app.jobs import maintenance
from app.jobs.models import Job, JobStatus, Operation
from tests.support.factories import ApplicationKeyFactory, create_dataset, dataset_event
from tests.support.people import make_person
from tests.support.web_sessions import browser_client, read_page, sign_in, submit
from tests.test_cli import invoke
from tests.test_person_roles import person_with_role

Application = role_models.application


@dataclass(frozen=True)
class Audit:
    action: str
    actor_kind: str  # "application", "user", "operator" (Actor.operator(): invoke)
    channel: str
    detail: str


def _audit(action: str, actor: str, channel: str, detail: str) -> Audit:
    # The key prefix in a key's detail differs from key to key.
    return Audit(action, actor.split(":")[0], channel, re.sub(r"\([\w-]+…\)", "(…)", detail))


@pytest.fixture
def audits(caplog):
    """The audit lines this process writes."""
    caplog.set_level(logging.INFO, logger="wps.audit")

    def read() -> list[Audit]:
        return [
            _audit(r.audit_action, r.actor, r.channel, r.detail)
            for r in caplog.records
            if r.name == "wps.audit"
        ]

    return read


def audits_in(stderr: str) -> list[Audit]:
    """The audit lines an `invoke` subprocess wrote (JSON lines on stderr)."""
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [
        _audit(line["audit_action"], line["actor"], line["channel"], line["detail"])
        for line in lines
        if line.get("logger") == "wps.audit"
    ]


@dataclass
class Outcome:
    status: int  # HTTP status, or the command's exit status
    audits: list[Audit]


# --- channels ---------------------------------------------------------------------------


def api_key(permission: str):
    def call(ctx, method: str, path: str, body=None) -> Outcome:
        headers = {"Workflow-API-Key": ApplicationKeyFactory(permissions=(permission,)).key}
        response = getattr(ctx.client, method)(path, json=body, headers=headers)
        return Outcome(response.status_code, ctx.audits())

    return call


def api_person(role: PersonRole):
    def call(ctx, method: str, path: str, body=None) -> Outcome:
        _, headers = person_with_role(ctx.app, role, f"{role.value}@uni.example")
        response = getattr(ctx.client, method)(path, json=body, headers=headers)
        return Outcome(response.status_code, ctx.audits())

    return call


def page_person(role: str, page: str):
    def call(ctx, action: str, data: dict | None = None) -> Outcome:
        browser = browser_client(ctx.app)
        sign_in(browser, make_person(name=f"{role.title()} Person", role=role))
        response = submit(browser, page, action, data)
        return Outcome(response.status_code, ctx.audits())

    return call


@dataclass
class Context:
    app: object
    client: object
    instance_path: object
    audits: object


@pytest.fixture
def ctx(app, client, db, instance_path, audits) -> Context:
    return Context(app, client, instance_path, audits)


def run_invoke(ctx, *arguments) -> Outcome:
    result = invoke(*arguments, instance_path=ctx.instance_path)
    _db.session.rollback()  # see what the other process committed
    return Outcome(result.returncode, audits_in(result.stderr))


def _dataset_exists(accession: str) -> bool:
    return _db.session.get(Dataset, accession) is not None


# --- dead feed events -------------------------------------------------------------------

DEAD, LATER = "evt-dead", "evt-later"


def dead_event_holding_a_later_one() -> None:
    """DS1's upsert is dead and holds back a later upsert of DS1 (with one file)."""
    events = [
        EventEnvelope.model_validate(dataset_event("DS1", files=2, event_id=DEAD)),
        EventEnvelope.model_validate(dataset_event("DS1", files=1, event_id=LATER)),
    ]
    intake.ingest(events, received_from="application:test")
    dead = feeds.get_event(DEAD)
    dead.status, dead.attempts, dead.last_error = EventStatus.DEAD.value, 5, "boom"
    _db.session.commit()


def feed_state() -> dict:
    _db.session.rollback()
    statuses = dict(_db.session.execute(select(InboxEvent.event_id, InboxEvent.status)).all())
    files = len(catalog.get_dataset("DS1").files) if _dataset_exists("DS1") else None
    return {"statuses": statuses, "DS1 files": files}


EVENT_CHANNELS = {
    "api DATA_STEWARD key": (api_key("DATA_STEWARD"), "application", "api"),
    "api ADMIN key": (api_key("ADMIN"), "application", "api"),
    "api steward's token": (api_person(PersonRole.STEWARD), "user", "api"),
    "page steward": (page_person("steward", "/steward/events"), "user", "web"),
    "page admin": (page_person("admin", "/admin/operations"), "user", "web"),
    "invoke": (None, "operator", "cli"),
}
EVENT_ACTIONS = {
    # Replayed, the dead event is applied and so is the one it held back.
    "replay": ("event_replayed", {DEAD: "applied", LATER: "applied"}),
    # Discarded, it never is; the held-back one flows again.
    "discard": ("event_discarded", {DEAD: "discarded", LATER: "applied"}),
}


@pytest.mark.parametrize("verb", EVENT_ACTIONS)
@pytest.mark.parametrize("channel", EVENT_CHANNELS)
def test_settling_a_dead_event_is_the_same_on_every_channel(ctx, verb, channel):
    dead_event_holding_a_later_one()
    do, kind, channel_name = EVENT_CHANNELS[channel]
    if channel == "invoke":
        outcome = run_invoke(ctx, f"{verb}-event", "--event-id", DEAD)
        expected_status = 0
    elif channel.startswith("page"):
        outcome = do(ctx, f"/admin/events/{DEAD}/{verb}")
        expected_status = 302
    else:
        outcome = do(ctx, "post", f"/events/{DEAD}/{verb}")
        expected_status = 200

    action, statuses = EVENT_ACTIONS[verb]
    assert outcome.status == expected_status
    assert feed_state() == {"statuses": statuses, "DS1 files": 1}
    detail = f"{DEAD} (metadata-datasets/DS1)"
    assert outcome.audits == [Audit(action, kind, channel_name, detail)]


def test_stewards_find_the_dead_events_page_in_their_navigation(ctx):
    dead_event_holding_a_later_one()
    steward = browser_client(ctx.app)
    sign_in(steward, make_person(name="Sam Steward", role="steward"))

    home = read_page(steward.get("/"))
    page = read_page(steward.get("/steward/events"))

    assert "/steward/events" in home.links
    assert DEAD in page.text and page.h1 == ["Dead feed events"]
    replayed = submit(
        steward,
        "/steward/events",
        f"/admin/events/{DEAD}/replay?back=events",
        follow_redirects=True,
    )
    assert replayed.request.path == "/steward/events"
    assert read_page(replayed).contains(f"Event {DEAD} will be applied again")


@pytest.mark.parametrize(
    "channel",
    [
        "api FEED_PUBLISHER key",
        "api JOBS_ADMIN key",
        "api researcher's token",
        "page researcher",
    ],
)
def test_others_may_not_settle_dead_events(ctx, channel):
    dead_event_holding_a_later_one()
    if channel == "page researcher":
        browser = browser_client(ctx.app)
        sign_in(browser, make_person(name="Rita Researcher"))
        # Her pages have forms with a CSRF token; the action is refused all the same.
        outcome = Outcome(
            submit(browser, "/profile", f"/admin/events/{DEAD}/replay").status_code, ctx.audits()
        )
    elif channel == "api researcher's token":
        outcome = api_person(PersonRole.RESEARCHER)(ctx, "post", f"/events/{DEAD}/replay")
    else:
        outcome = api_key(channel.split()[1])(ctx, "post", f"/events/{DEAD}/replay")

    assert outcome.status == 403
    assert outcome.audits == []
    assert feed_state()["statuses"] == {DEAD: "dead", LATER: "pending"}


def test_requeueing_hands_waiting_events_to_the_workers(ctx):
    """`invoke requeue-events` (the only channel) changes nothing stored: no audit line."""
    waiting = EventEnvelope.model_validate(dataset_event("DS1", event_id=LATER))
    intake.ingest([waiting], received_from="application:test")
    _db.session.commit()

    outcome = run_invoke(ctx, "requeue-events")

    assert outcome.status == 0 and outcome.audits == []
    assert feed_state() == {"statuses": {LATER: "applied"}, "DS1 files": 2}


# --- maintenance ------------------------------------------------------------------------

MAINTENANCE_CHANNELS = {
    "api JOBS_ADMIN key": (api_key("JOBS_ADMIN"), "application", "api"),
    "api ADMIN key": (api_key("ADMIN"), "application", "api"),
    "api admin's token": (api_person(PersonRole.ADMIN), "user", "api"),
    "page admin": (page_person("admin", "/admin/operations"), "user", "web"),
}


def a_queued_job_while_paused() -> None:
    """Jobs are paused, and a job removing DS9 waits in the queue."""
    create_dataset("DS9", files=1)
    maintenance.change("Storage migration", True, "cli")
    _db.session.add(
        Job(
            operation=Operation.REMOVE.value,
            target="DS9",
            status=JobStatus.QUEUED.value,
            created_by="cli",
            parameters={},
            description="",
        )
    )
    _db.session.commit()


def jobs_state() -> dict:
    _db.session.rollback()
    state = maintenance.current()
    job = _db.session.scalars(select(Job)).one()
    return {
        "paused": state.paused,
        "msg": state.msg,
        "set by": state.set_by.split(":")[0],
        "job": job.status,
        "DS9": _dataset_exists("DS9"),
    }


@pytest.mark.parametrize(
    ("paused", "action", "job", "ds9"),
    [
        (True, "jobs_paused", JobStatus.QUEUED.value, True),
        # Resumed, the waiting job is handed to the workers: it runs and DS9 is gone.
        (False, "jobs_resumed", JobStatus.COMPLETED.value, False),
    ],
)
@pytest.mark.parametrize("channel", MAINTENANCE_CHANNELS)
def test_maintenance_is_the_same_on_every_channel(ctx, channel, paused, action, job, ds9):
    a_queued_job_while_paused()
    do, kind, channel_name = MAINTENANCE_CHANNELS[channel]
    if channel.startswith("page"):
        form = {"paused": "pause" if paused else "resume", "msg": "Back at 9"}
        outcome = do(ctx, "/admin/maintenance", form)
        expected_status = 302
    else:
        outcome = do(ctx, "post", "/maintenance-status", {"msg": "Back at 9", "paused": paused})
        expected_status = 200

    assert outcome.status == expected_status
    assert jobs_state() == {
        "paused": paused,
        "msg": "Back at 9",
        "set by": kind,
        "job": job,
        "DS9": ds9,
    }
    assert outcome.audits == [Audit(action, kind, channel_name, "Back at 9")]


# --- application keys -------------------------------------------------------------------


def keys_state() -> list[tuple]:
    _db.session.rollback()
    rows = _db.session.scalars(select(Application).order_by(Application.created_at))
    return [(a.name, a.permission_names, a.revoked_at is not None) for a in rows]


KEY_CREATED = Audit(
    "application_key_created", "", "", "metadata feed (…) DATA_STEWARD,FEED_PUBLISHER"
)


@pytest.mark.parametrize("channel", ["page admin", "invoke"])
def test_making_a_key_is_the_same_on_every_channel(ctx, channel):
    if channel == "invoke":
        outcome = run_invoke(
            ctx,
            "create-application-key",
            "-n",
            "metadata feed",
            "-p",
            "FEED_PUBLISHER",
            "-p",
            "DATA_STEWARD",
        )
        expected = (0, "operator", "cli")
    else:
        form = {"name": "metadata feed", "permissions": ["FEED_PUBLISHER", "DATA_STEWARD"]}
        outcome = page_person("admin", "/admin/keys")(ctx, "/admin/applications", form)
        expected = (200, "user", "web")

    assert outcome.status == expected[0]
    assert keys_state() == [("metadata feed", ["DATA_STEWARD", "FEED_PUBLISHER"], False)]
    created = Audit(KEY_CREATED.action, expected[1], expected[2], KEY_CREATED.detail)
    assert outcome.audits == [created]


@pytest.mark.parametrize("channel", ["page admin", "invoke"])
def test_revoking_a_key_is_the_same_on_every_channel(ctx, channel, audits):
    ApplicationKeyFactory(name="demo", permissions=("JOBS_ADMIN",))
    if channel == "invoke":
        outcome = run_invoke(ctx, "revoke-application-key", "-n", "demo")
        expected = (0, "operator", "cli")
    else:
        outcome = page_person("admin", "/admin/keys")(ctx, "/admin/applications/demo/revoke")
        expected = (302, "user", "web")

    assert outcome.status == expected[0]
    assert keys_state() == [("demo", ["JOBS_ADMIN"], True)]
    revoked = Audit("application_key_revoked", expected[1], expected[2], "demo (1 key(s))")
    assert outcome.audits == [revoked]
