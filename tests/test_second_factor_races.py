"""Codes sent at the same moment from many sessions: each rule holds on both databases.

An attacker with a phished provider login opens many sessions and sends codes in
parallel; the lock after five wrong codes, "a code counts once" and "a recovery
code works once" must hold then too, on PostgreSQL and on the embedded default
(a SQLite file, which ignores SELECT ... FOR UPDATE).
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.accounts.models import AccountEvent
from app.extensions import db as _db
from app.second_factor.models import TotpFactor
from app.second_factor.totp import MAX_FAILURES
from tests.conftest import make_settings
from tests.support.people import make_person
from tests.support.second_factor_steps import csrf_token, enrol, next_step_code, signed_in

VERIFY = "/second-factor/verify"


@pytest.fixture(params=["postgresql", "sqlite"])
def race_app(request, instance_path, tmp_path):
    """The service on PostgreSQL (emptied afterwards) or on a SQLite file of its own."""
    if request.param == "postgresql":
        app = request.getfixturevalue("app")
        request.getfixturevalue("db")  # an app context, and the tables emptied afterwards
        yield app
        return
    app = create_app(
        make_settings(
            instance_path,
            sqlalchemy_database_uri=f"sqlite:///{tmp_path / 'wps.sqlite'}",
            celery_broker_url=None,
            celery_always_eager=None,
        )
    )
    with app.app_context():
        upgrade()
        yield app
        _db.session.remove()
        _db.engine.dispose()


def enrolled_person(app):
    person = make_person()
    client = app.test_client()
    signed_in(client, person)
    secret, codes = enrol(client)
    return person, secret, codes


def send_in_parallel(app, person, codes: list[str]) -> list[int]:
    """Each code from its own signed-in session, all released at once; the statuses."""
    sessions = []
    for code in codes:
        client = app.test_client()
        signed_in(client, person)
        sessions.append((client, csrf_token(client, VERIFY), code))
    start = threading.Barrier(len(sessions))

    def send(session) -> int:
        client, token, code = session
        start.wait()
        return client.post(VERIFY, data={"csrf_token": token, "code": code}).status_code

    with ThreadPoolExecutor(len(sessions)) as pool:
        return list(pool.map(send, sessions))


def wrong_code(secret: str) -> str:
    near = {next_step_code(secret, steps) for steps in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222") if c not in near)


def events(person, action: str) -> int:
    _db.session.remove()
    return len(
        _db.session.scalars(
            select(AccountEvent.id).where(
                AccountEvent.user_id == person.id, AccountEvent.action == action
            )
        ).all()
    )


def test_twenty_wrong_codes_at_once_lock_after_five(race_app):
    person, secret, _ = enrolled_person(race_app)

    statuses = send_in_parallel(race_app, person, [wrong_code(secret)] * 20)

    assert sorted(statuses) == [422] * (MAX_FAILURES - 1) + [429] * (20 - MAX_FAILURES + 1)
    assert events(person, "second_factor_locked") == 1
    _db.session.remove()
    assert _db.session.get(TotpFactor, person.id).locked_until is not None
    client = race_app.test_client()
    signed_in(client, person)
    right = client.post(
        VERIFY, data={"csrf_token": csrf_token(client, VERIFY), "code": next_step_code(secret)}
    )
    assert right.status_code == 429


def test_one_code_sent_from_eight_sessions_at_once_passes_once(race_app):
    person, secret, _ = enrolled_person(race_app)

    statuses = send_in_parallel(race_app, person, [next_step_code(secret)] * 8)

    assert statuses.count(302) == 1
    assert set(statuses) - {302} <= {422, 429}  # replays count as wrong codes
    assert events(person, "second_factor_passed_totp") == 1


def test_one_recovery_code_sent_from_thirteen_sessions_at_once_passes_once(race_app):
    person, _, codes = enrolled_person(race_app)

    statuses = send_in_parallel(race_app, person, [codes[0]] * 13)

    assert statuses.count(302) == 1
    assert set(statuses) - {302} <= {422, 429}
    assert events(person, "second_factor_passed_recovery") == 1
