"""Replicas that share nothing but PostgreSQL, the broker, Kafka and object storage
(ADR 31): production refuses per-machine state, beat runs as two replicas, readiness
waits for the migrations, and the previous version serves while they run."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.config import Settings, SettingsError, load_settings
from app.credentials.jwk import generate_private_jwk
from app.extensions import db as _db
from devtools.local_services import free_port, stop, wait_until_answering
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, make_settings
from tests.support.users import Researcher
from tests.support.worker_processes import worker_environment

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"

# --- production refuses what one machine keeps --------------------------------------

REPLICATED = {
    "DEPLOYMENT": "production",
    "STORAGE_BACKEND": "s3",
    "INPUT_DIR": "/srv/wps-input",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
}


@pytest.fixture
def environment(monkeypatch, tmp_path):
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))

    def use(values: dict) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return use


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"STORAGE_BACKEND": "local"}, "STORAGE_BACKEND"),
        ({"INPUT_DIR": ""}, "INPUT_DIR"),
        ({"INPUT_DIR": "{instance}/input"}, "INPUT_DIR"),
        ({"CELERY_BROKER_URL": "amqp://guest:guest@rabbitmq:5672//"}, "RATELIMIT_STORAGE_URI"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI"),
    ],
)
def test_production_refuses_state_kept_on_one_machine(environment, tmp_path, change, named):
    values = REPLICATED | {k: v.format(instance=tmp_path / "instance") for k, v in change.items()}
    environment({k: v for k, v in values.items() if v})

    with pytest.raises(SettingsError) as refused:
        load_settings()

    message = str(refused.value)
    assert message.startswith(f"Invalid setting {named}:")
    assert "\n" not in message and "SINGLE_REPLICA=true" in message


def test_production_takes_shared_state_and_a_declared_single_replica(environment, tmp_path):
    environment(REPLICATED)
    assert load_settings().storage_backend == "s3"

    environment({"CELERY_BROKER_URL": "amqp://rabbitmq//", "RATELIMIT_STORAGE_URI": "redis://r/1"})
    assert load_settings().ratelimit_storage_uri == "redis://r/1"

    environment(
        {"SINGLE_REPLICA": "true", "STORAGE_BACKEND": "local", "RATELIMIT_STORAGE_URI": "memory://"}
    )
    single = load_settings()
    assert (single.storage_backend, single.ratelimit_storage_uri) == ("local", "memory://")


def test_production_refusal_stops_start_up_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env |= {"INSTANCE_PATH": str(tmp_path), "DEPLOYMENT": "production", "STORAGE_BACKEND": "s3"}

    result = subprocess.run(
        [sys.executable, "-c", "from app import create_app; create_app()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Invalid setting INPUT_DIR: the instance folder is one machine's; with "
        "DEPLOYMENT=production name a folder every worker mounts, or set SINGLE_REPLICA=true"
    ]


# --- databases of their own ----------------------------------------------------------


@contextmanager
def scratch_database(suffix: str):
    """A database next to the test database, dropped afterwards."""
    url = make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg2")
    name = f"{url.database}_{suffix}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def flask_db(cwd: Path, database_uri: str, *arguments, instance_path: Path):
    env = worker_environment(instance_path, sqlalchemy_database_uri=database_uri)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "run", "db", *arguments],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


# --- readiness waits for the migrations ----------------------------------------------


def test_not_ready_until_the_database_has_this_versions_migrations(tmp_path):
    script = ScriptDirectory(str(MIGRATIONS))
    (head,) = script.get_heads()
    previous = script.get_revision(head).down_revision
    with scratch_database("older") as database:
        migrated = flask_db(ROOT, database, "upgrade", previous, instance_path=tmp_path)
        assert migrated.returncode == 0, migrated.stderr
        app = create_app(make_settings(tmp_path, sqlalchemy_database_uri=database))
        client = app.test_client()

        older = client.get("/health/ready")
        alive = client.get("/health")
        flask_db(ROOT, database, "upgrade", instance_path=tmp_path)
        current = client.get("/health/ready")
        with create_engine(database).begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'newer_1'"))
        newer = client.get("/health/ready")
        with app.app_context():
            _db.engine.dispose()

    assert older.status_code == 503
    assert older.json["code"] == "not_ready"
    assert f"schema is at {previous}, the code needs {head}" in older.json["detail"]
    assert alive.status_code == 200
    assert current.status_code == 200
    assert current.json["checked"] == ["database", "schema", "broker"]
    # A newer version migrated (expand only): this one keeps taking traffic.
    assert newer.status_code == 200


# --- the previous version serves while the migrations run ----------------------------


@contextmanager
def parent_worktree(tmp_path):
    """The commit before the newest migration arrived, checked out with `git worktree`
    (along the first parents, so that a migration arriving by a merge counts too)."""
    newest = _head_file()
    added = subprocess.run(
        ["git", "log", "-m", "--first-parent", "--diff-filter=A", "--format=%H", "-1", "--",
         newest],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    folder = tmp_path / "parent"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(folder), f"{added}^"],
        cwd=ROOT, capture_output=True, check=True,
    )  # fmt: skip
    try:
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT)


def _person_on_older_schema(database: str, researcher: Researcher) -> None:
    """An active researcher's row with only the columns the older schema has (this
    version's model may name columns that its migrations have not added yet)."""
    values = {
        "id": researcher.id, "name": "Ada Lovelace", "email": researcher.email,
        "email_key": researcher.email.lower(), "status": "active", "role": "researcher",
        "created_at": datetime.now(UTC), "email_verified": False,
    }  # fmt: skip
    engine = create_engine(database)
    with engine.begin() as connection:
        table = Table("user_account", MetaData(), autoload_with=connection)
        connection.execute(table.insert().values({k: v for k, v in values.items() if k in table.c}))
    engine.dispose()


def _head_file() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    return script.get_revision(script.get_current_head()).path


def test_previous_version_serves_while_this_versions_migrations_run(tmp_path):
    signing_key = generate_private_jwk()
    with parent_worktree(tmp_path) as parent, scratch_database("rolling") as database:
        migrated = flask_db(parent, database, "upgrade", instance_path=tmp_path)
        assert migrated.returncode == 0, migrated.stderr
        # A person and their token, made with this version on the parent's schema.
        app = create_app(
            make_settings(tmp_path, sqlalchemy_database_uri=database, auth_signing_key=signing_key)
        )
        researcher = Researcher(app)
        _person_on_older_schema(database, researcher)
        port = free_port()
        env = worker_environment(
            tmp_path, sqlalchemy_database_uri=database, auth_signing_key=signing_key
        )
        command = [sys.executable, "-m", "granian", "run:app", "--interface", "wsgi"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--no-ws"]
        log = open(tmp_path / "parent-service.log", "w")  # noqa: SIM115
        server = subprocess.Popen(command, cwd=parent, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_answering(
                f"{base}/health/ready", server, "the parent's server (see parent-service.log)"
            )
            answers, stop_load = [], threading.Event()
            paths = ["/health/ready", f"/users/{researcher.id}/ivas"]
            load = threading.Thread(
                target=_load, args=(base, paths, researcher.headers(), answers, stop_load)
            )
            load.start()
            time.sleep(1)
            started = len(answers)
            upgraded = flask_db(ROOT, database, "upgrade", instance_path=tmp_path)
            during = len(answers) - started
            time.sleep(1)
            stop_load.set()
            load.join()
        finally:
            stop(server)
            log.close()
        with create_engine(database).connect() as connection:
            at = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    assert upgraded.returncode == 0, upgraded.stderr
    assert at == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert during > 0 and len(answers) > 20
    failures = [answer for answer in answers if not 200 <= answer[1] < 300]
    assert failures == []
    assert {path for path, _ in answers} == set(paths)


def _load(base, paths, headers, answers, stopped) -> None:
    with requests.Session() as session:
        while not stopped.is_set():
            for path in paths:
                try:
                    status = session.get(base + path, headers=headers, timeout=10).status_code
                except requests.RequestException as error:
                    status = type(error).__name__
                answers.append((path, status))


# --- beat as two replicas -------------------------------------------------------------

_SENT = re.compile(
    r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}).*Sending due task requeue-pending-events"
)


@pytest.mark.worker
def test_two_beat_replicas_send_each_sweep_once(app, tmp_path):
    env = worker_environment(
        tmp_path,
        celery_broker_url=TEST_REDIS_URL,
        event_requeue_after_seconds=1,
        log_format="text",
    )
    logs = [tmp_path / f"beat-{number}.log" for number in range(2)]
    beats = []
    for log in logs:
        command = [sys.executable, "-m", "celery", "-A", "workers.main", "beat"]
        command += ["--loglevel", "INFO"]
        with open(log, "w") as output:
            beats.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output))
    try:
        first_phase = time.monotonic()
        _until(lambda: sum(bool(_sends(log)) for log in logs) >= 1, 60)
        time.sleep(6)
        first_phase = time.monotonic() - first_phase
        sending = [bool(_sends(log)) for log in logs]
        holder = sending.index(True)
        other = 1 - holder
        held_sends = len(_sends(logs[holder]))

        beats[holder].send_signal(signal.SIGKILL)
        beats[holder].wait(timeout=10)
        killed_at = datetime.now()
        _until(lambda: _sends(logs[other]), 30)
        taken_over = _sends(logs[other])[0]
        time.sleep(4)
    finally:
        for beat in beats:
            if beat.poll() is None:
                beat.terminate()
                beat.wait(timeout=30)

    assert sending.count(True) == 1, "both beats sent while both were running"
    assert "another beat holds the schedule lock; waiting" in logs[other].read_text()
    # Every second, once: not twice as often as the schedule says.
    assert held_sends <= first_phase + 2
    after = _sends(logs[other])
    assert (taken_over - killed_at).total_seconds() < 10
    assert len(after) <= (after[-1] - after[0]).total_seconds() + 2


def _sends(log: Path) -> list[datetime]:
    found = _SENT.findall(log.read_text())
    return [datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f") for stamp in found]


def _until(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("not within the time")
