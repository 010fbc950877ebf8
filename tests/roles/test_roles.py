"""The roles package on its own: a host app with its own base, enum and session."""

from datetime import UTC, datetime, timedelta
from enum import IntEnum

import pytest
from flask import Flask, g, jsonify
from sqlalchemy import create_engine, text
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

from roles import (
    ApplicationStore,
    AuthenticationFailed,
    PermissionDenied,
    define_role_models,
    make_permission_decorator,
)
from tests.conftest import TEST_DATABASE_URL

SCHEMA = "roles_package_test"


class HostPermission(IntEnum):
    READ = 1
    WRITE = 2
    ROOT = 3


class HostBase(DeclarativeBase):
    pass


models = define_role_models(HostBase)


@pytest.fixture(scope="module")
def engine():
    url = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg2://", 1)
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={SCHEMA}"})
    HostBase.metadata.create_all(engine)
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {SCHEMA} CASCADE"))
    admin.dispose()


@pytest.fixture
def session(engine):
    sessions = scoped_session(sessionmaker(engine))
    yield sessions
    sessions.rollback()
    sessions.remove()
    with engine.begin() as connection:
        connection.execute(
            text("TRUNCATE application, system_permission, application_system_permission CASCADE")
        )


@pytest.fixture
def store(session):
    return ApplicationStore(models, lambda: session(), HostPermission)


@pytest.fixture
def host_client(store):
    host = Flask("host")
    permissions_required = make_permission_decorator(
        HostPermission, store, superuser=HostPermission.ROOT
    )

    @host.get("/write")
    @permissions_required([HostPermission.WRITE])
    def write():
        return jsonify(name=g.application.name)

    @host.errorhandler(AuthenticationFailed)
    @host.errorhandler(PermissionDenied)
    def refused(error):
        return jsonify(detail=error.detail, code=error.code), error.status

    return host.test_client()


def test_created_key_authenticates_its_application(store, session):
    issued = store.create("reader", [HostPermission.READ])
    session.commit()

    application = store.authenticate(issued.key)

    assert application.name == "reader"
    assert store.granted(application) == {HostPermission.READ}


def test_permission_rows_mirror_the_enum(store, session):
    store.create("reader", [HostPermission.READ])

    rows = session.execute(text("SELECT id, name FROM system_permission ORDER BY id")).all()

    assert [tuple(row) for row in rows] == [(1, "READ"), (2, "WRITE"), (3, "ROOT")]


def test_application_needs_a_permission(store):
    with pytest.raises(ValueError, match="at least one permission"):
        store.create("nothing", [])


@pytest.mark.parametrize(
    ("permission", "expected"),
    [(HostPermission.WRITE, 200), (HostPermission.ROOT, 200), (HostPermission.READ, 403)],
)
def test_decorator_admits_by_permission_or_superuser(
    store, session, host_client, permission, expected
):
    issued = store.create("caller", [permission])
    session.commit()

    response = host_client.get("/write", headers={"Workflow-API-Key": issued.key})

    assert response.status_code == expected
    if expected == 403:
        assert response.json["code"] == "permission_denied"


def test_revoked_and_expired_keys_are_refused(store, session, host_client):
    revoked = store.create("old", [HostPermission.WRITE])
    expired = store.create(
        "late", [HostPermission.WRITE], expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    store.revoke("old")
    session.commit()

    for key in (revoked.key, expired.key, "unknown"):
        response = host_client.get("/write", headers={"Workflow-API-Key": key})
        assert response.status_code == 401


def test_a_name_can_be_reused_after_revocation(store, session):
    first = store.create("worker", [HostPermission.READ])
    store.revoke("worker")
    second = store.create("worker", [HostPermission.READ])
    session.commit()

    assert store.authenticate(second.key).name == "worker"
    with pytest.raises(AuthenticationFailed):
        store.authenticate(first.key)


def test_two_live_keys_cannot_share_a_name(store, session):
    from sqlalchemy.exc import IntegrityError

    store.create("twin", [HostPermission.READ])
    with pytest.raises(IntegrityError):
        store.create("twin", [HostPermission.READ])


def test_decorator_rejects_foreign_permissions(store):
    permissions_required = make_permission_decorator(HostPermission, store)

    class Other(IntEnum):
        X = 1

    with pytest.raises(ValueError):
        permissions_required([Other.X])


def test_store_never_commits_the_callers_work(store, engine):
    store.create("uncommitted", [HostPermission.READ])

    with Session(engine) as other:
        count = other.execute(text("SELECT count(*) FROM application")).scalar()

    assert count == 0


def test_people_pass_by_what_the_host_says_they_hold(store, session):
    """A host admits people too: the decorator asks it, never reads a claim itself."""
    people = {"Bearer steward": ("person:1", frozenset({HostPermission.WRITE}))}
    host = Flask("host")

    def person_permissions():
        from flask import request

        found = people.get(request.headers["Authorization"])
        if found is None:
            raise AuthenticationFailed("Unknown person")
        return found

    permissions_required = make_permission_decorator(
        HostPermission, store, HostPermission.ROOT, person_permissions=person_permissions
    )

    @host.get("/write")
    @permissions_required([HostPermission.WRITE])
    def write():
        return jsonify(actor=g.actor, application=g.application)

    @host.get("/apps-only")
    @permissions_required([HostPermission.READ], people=False)
    def apps_only():
        return jsonify(actor=g.actor)

    @host.errorhandler(AuthenticationFailed)
    @host.errorhandler(PermissionDenied)
    def refused(error):
        return jsonify(detail=error.detail, code=error.code), error.status

    client = host.test_client()
    people["Bearer reader"] = ("person:2", frozenset({HostPermission.READ}))

    steward = client.get("/write", headers={"Authorization": "Bearer steward"})
    reader = client.get("/write", headers={"Authorization": "Bearer reader"})
    stranger = client.get("/write", headers={"Authorization": "Bearer nobody"})
    not_here = client.get("/apps-only", headers={"Authorization": "Bearer reader"})

    assert (steward.status_code, steward.json) == (200, {"actor": "person:1", "application": None})
    assert (reader.status_code, reader.json["code"]) == (403, "permission_denied")
    assert stranger.status_code == 401
    assert (not_here.status_code, not_here.json["detail"]) == (401, "Missing API key")
