"""`invoke chaos`: every process of a replicated deployment on one machine, a mixed
load through a balancer, and one process killed with SIGKILL every 30 s.

Everything runs on 127.0.0.1 with services of its own, so the machine's shared
PostgreSQL and Redis are never touched: PostgreSQL (`initdb` on a free port), Redis
(the Celery broker and the rate limits), the librdkafka mock cluster (its faults by
its own injection: a restart would lose its log), 3 API processes behind nginx
(`TRUSTED_PROXY_HOPS=1`), 2 Celery workers, 2 Kafka consumers, 2 beats (one sends).

The load, for the given time: work order tokens through the balancer, on one package
whose grant stays and one whose grant is revoked half-way; dataset change events
over HTTP (`POST /events`, retried with the same ids until accepted) and over Kafka
(an idempotent producer). A seeded schedule picks, every 30 s, one of: an API
process, a worker, a consumer, a beat, the Kafka broker (down 10 s) or PostgreSQL;
it is killed with SIGKILL and started again at once.

At the end, with every process up again, it checks: every accepted event applied
exactly once, in order per key, and each dataset at its last version; no work order
token issued for a request made after its grant's revocation was committed; every
request answered 2xx or retryably (429/502/503/504, or a dropped connection); no 5xx
outside a kill window (a kill until the process answers again, plus 5 s). It prints
a table with the seed; exit status 1 if a check failed.
"""

import base64
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import requests

ROOT = Path(__file__).resolve().parent.parent
KILL_EVERY_SECONDS = 30
BROKER_DOWN_SECONDS = 10
GRACE_SECONDS = 5
RETRYABLE = {429, 502, 503, 504}
DATASET_TOPIC = "metadata-datasets"
HTTP_KEYS = [f"CHAOSH{n:02d}" for n in range(8)]
KAFKA_KEYS = [f"CHAOSK{n:02d}" for n in range(8)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, seconds: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        with suppress(Exception):
            if condition():
                return time.monotonic() - started
        time.sleep(0.2)
    raise RuntimeError(f"{what} not within {seconds:g} s")


def answers(url: str) -> bool:
    return requests.get(url, timeout=2).status_code == 200


@dataclass
class Process:
    """One restartable process; its log is appended to over restarts."""

    name: str
    command: list[str]
    env: dict
    log: Path
    ready: object = None  # a callable: True once it serves again
    marker: str = ""  # or: a line its log shows once more when it is up again
    popen: subprocess.Popen | None = None

    def markers(self) -> int:
        return self.log.read_text(errors="replace").count(self.marker) if self.marker else 0

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.popen = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


def _postgres_bin() -> Path:
    """Debian keeps the server's programs (initdb, postgres) off PATH, per version."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("no initdb: install PostgreSQL's server (apt-get install postgresql)")
    return Path(initdb).parent


class Postgres:
    """A cluster of its own (`initdb`), run as the `postgres` user when we are root."""

    name = "postgres"

    def __init__(self, folder: Path):
        self.port = free_port()
        self.data = folder / "pgdata"
        self.log = folder / "postgres.log"
        self.bin = _postgres_bin()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.data.mkdir()
        if self.as_user:
            shutil.chown(folder, "postgres")
            shutil.chown(self.data, "postgres")
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
        subprocess.run([*self.as_user, *initdb, "--no-sync"], check=True, capture_output=True)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        command = [*self.as_user, str(self.bin / "postgres"), "-D", str(self.data)]
        command += ["-p", str(self.port), "-k", str(self.data), "-c", "listen_addresses=127.0.0.1"]
        command += ["-c", "fsync=off", "-c", "max_connections=300"]
        with open(self.log, "a") as log:
            self.popen = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def ready(self) -> bool:
        return (
            subprocess.run(
                [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
            ).returncode
            == 0
        )

    def _signal(self, number: int) -> None:
        with suppress(FileNotFoundError, ProcessLookupError, ValueError):
            os.kill(int((self.data / "postmaster.pid").read_text().split()[0]), number)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def restart(self) -> None:
        # Orphaned backends leave when they notice; until then the start is refused.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.start()
            with suppress(RuntimeError):
                wait_until(self.ready, 5, "postgres")
                return
            if self.popen.poll() is None:
                continue
            time.sleep(0.5)
        raise RuntimeError("postgres did not start again within 60 s")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self._signal(signal.SIGINT)  # fast shutdown
            self.popen.wait(timeout=60)


NGINX = """
{user}
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {folder}/nginx-body;
  proxy_temp_path {folder}/nginx-proxy;
  fastcgi_temp_path {folder}/nginx-fastcgi;
  uwsgi_temp_path {folder}/nginx-uwsgi;
  scgi_temp_path {folder}/nginx-scgi;
  upstream api {{
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout http_502 non_idempotent;
      proxy_connect_timeout 1s;
      proxy_read_timeout 20s;
    }}
  }}
}}
"""


@dataclass
class Tally:
    """What the clients saw."""

    requests: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    server_errors: list = field(default_factory=list)  # (kind, answered at, status)
    unanswered: list = field(default_factory=list)  # (kind, at, status): not retryable
    after_revocation: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, at: float, status) -> None:
        with self.lock:
            self.requests[kind] += 1
            self.outcomes[(kind, status)] += 1
            if isinstance(status, int) and status >= 500:
                # When it was answered counts: a request in flight when a process was
                # killed started before the kill and is answered inside its window.
                self.server_errors.append((kind, time.monotonic(), status))
            answered = isinstance(status, str) or 200 <= status < 300 or status in RETRYABLE
            refused_as_revoked = kind == "wot-revoked" and status in (403, 404)
            if not (answered or refused_as_revoked):
                self.unanswered.append((kind, at, status))


def run_chaos(minutes: float, seed: int, folder: Path) -> dict:
    """Start everything, load it for `minutes` while killing, check, return the figures."""
    from devtools.kafka_mock_broker import mock_broker

    schedule_random = random.Random(seed)  # noqa: S311 - a reproducible schedule, not a secret
    duration = minutes * 60
    with ExitStack() as stack:
        postgres = Postgres(folder)
        postgres.start()
        wait_until(postgres.ready, 60, "postgres")
        stack.callback(postgres.stop)
        redis_port = free_port()
        redis = Process(
            "redis",
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            dict(os.environ), folder / "redis.log",
        )  # fmt: skip
        redis.start()
        stack.callback(redis.stop)
        broker = stack.enter_context(mock_broker(folder / "kafka.log"))
        broker.create_topics(DATASET_TOPIC, partitions=3)

        nginx_port = free_port()
        base = f"http://127.0.0.1:{nginx_port}"
        env = _environment(postgres.url, redis_port, broker.bootstraps, folder, base)
        _migrate(env)
        app = _app(env)
        seeded = _seed(app)

        processes = _processes(env, folder)
        for process in processes.values():
            process.start()
            stack.callback(process.stop)
        nginx = _nginx(folder, nginx_port, [processes[f"api-{n}"] for n in range(3)])
        nginx.start()
        stack.callback(nginx.stop)
        for number in range(3):
            wait_until(processes[f"api-{number}"].ready, 90, f"api-{number}")
        wait_until(lambda: answers(f"{base}/health/ready"), 30, "the balancer")

        tally, stop_load = Tally(), threading.Event()
        sent = {"http": defaultdict(list), "kafka": defaultdict(list)}
        revoked_at: list[float] = []
        loaders = [
            threading.Thread(
                target=_wot_client, args=(base, seeded["kept"], "wot", tally, stop_load)
            )
            for _ in range(3)
        ] + [
            threading.Thread(
                target=_wot_client, args=(base, seeded["revoked"], "wot-revoked", tally, stop_load)
            ),
            threading.Thread(
                target=_http_events, args=(base, seeded["feed_key"], tally, sent["http"], stop_load)
            ),
            threading.Thread(
                target=_kafka_events, args=(broker.bootstraps, sent["kafka"], stop_load)
            ),
        ]
        started = time.monotonic()
        stack.callback(stop_load.set)  # on any failure too: the loaders end with the run
        for loader in loaders:
            loader.daemon = True
            loader.start()

        kills: list[dict] = []
        # A kind of process first, each as likely, then one of its replicas.
        kinds = defaultdict(list)
        for name in [*processes, "postgres", "broker"]:
            kinds[name.rsplit("-", 1)[0] if name[-1].isdigit() else name].append(name)
        revoked = False
        next_kill = started + KILL_EVERY_SECONDS / 2
        while time.monotonic() - started < duration:
            if not revoked and time.monotonic() - started >= duration / 2:
                revoked_at.append(_revoke(app, seeded["grant_id"]))
                revoked = True
            if time.monotonic() >= next_kill:
                kind = schedule_random.choice(sorted(kinds))
                target = schedule_random.choice(kinds[kind])
                kills.append(_kill(target, processes, postgres, broker, started, base))
                next_kill += KILL_EVERY_SECONDS
            time.sleep(0.2)
        if not revoked:
            revoked_at.append(_revoke(app, seeded["grant_id"]))
        stop_load.set()
        for loader in loaders:
            loader.join(timeout=120)
        elapsed = time.monotonic() - started

        for name, process in processes.items():
            if process.popen.poll() is not None:
                process.start()  # a process that died by itself is a finding too
                kills.append({"process": name, "at": time.monotonic() - started, "died": True})
        drained = _drain(app, sent, seconds=180)
        events = _check_events(app, sent)
        wots = _check_revocation(tally, revoked_at[0] - started if revoked_at else None, started)

    windows = [
        (kill["at"], kill["at"] + kill.get("recovery", 60) + GRACE_SECONDS) for kill in kills
    ]
    outside = [
        error for error in tally.server_errors
        if not any(start <= error[1] - started <= end for start, end in windows)
    ]  # fmt: skip
    return {
        "seed": seed,
        "minutes": minutes,
        "elapsed_seconds": round(elapsed, 1),
        "requests": dict(tally.requests),
        "outcomes": {f"{kind} {status}": count for (kind, status), count in tally.outcomes.items()},
        "kills": kills,
        "events": events | {"drained_seconds": drained},
        "revocation": wots,
        "server_errors_outside_kill_windows": len(outside),
        "outside": [(kind, round(at - started, 1), status) for kind, at, status in outside][:20],
        "not_retryable": [f"{kind} {status}" for kind, _, status in tally.unanswered][:20],
        "passed": (
            not outside
            and not tally.unanswered
            and events["ok"]
            and not wots["issued_after_revocation"]
            and not any(kill.get("died") for kill in kills)
        ),
    }


def _environment(database_url, redis_port, bootstraps, folder: Path, base: str) -> dict:
    from app.credentials.jwk import generate_private_jwk

    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SQLALCHEMY", "CELERY"))}
    instance = folder / "instance"
    instance.mkdir()
    return keep | {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_POOL_SIZE": "4",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CELERY_VISIBILITY_TIMEOUT": "30",
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "chaos-secret-key",
        "AUTH_SIGNING_KEY": generate_private_jwk(),
        "WORK_PACKAGE_SIGNING_KEY": generate_private_jwk(),
        "STORAGE_CRYPT4GH_PRIVATE_KEY": base64.b64encode(os.urandom(32)).decode(),
        "PUBLIC_BASE_URL": base,
        "TRUSTED_PROXY_HOPS": "1",
        "KAFKA_SERVERS": json.dumps([bootstraps]),
        "SERVICE_NAME": "wps-chaos",
        "KAFKA_MAX_RETRIES": "1000",
        "KAFKA_RETRY_BACKOFF": "1",
        "EVENT_REQUEUE_AFTER_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
    }


def _migrate(env: dict) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "run", "db", "upgrade"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip


def _app(env: dict):
    from app import create_app
    from app.config import Settings

    names = {name.upper() for name in Settings.model_fields}
    values = {k.lower(): v for k, v in env.items() if k in names}
    return create_app(Settings(**values))


def _processes(env: dict, folder: Path) -> dict[str, Process]:
    from app.serving import server_command

    processes = {}
    for number in range(3):
        port = free_port()
        processes[f"api-{number}"] = Process(
            f"api-{number}", server_command("127.0.0.1", port, 1, 4), env,
            folder / f"api-{number}.log",
            ready=lambda port=port: answers(f"http://127.0.0.1:{port}/health/ready"),
        )  # fmt: skip
        processes[f"api-{number}"].port = port
    celery = [sys.executable, "-m", "celery", "-A", "workers.main"]
    for number in range(2):
        processes[f"worker-{number}"] = Process(
            f"worker-{number}",
            [*celery, "worker", "--pool", "solo", "--loglevel", "INFO", "--without-mingle",
             "--without-gossip", "--hostname", f"chaos-{number}@%h"],
            env, folder / f"worker-{number}.log", marker=" ready.",
        )  # fmt: skip
        processes[f"consumer-{number}"] = Process(
            f"consumer-{number}",
            [sys.executable, "-m", "invoke", "consume-events"],
            env | {"SERVICE_INSTANCE_ID": f"consumer-{number}", "LOG_LEVEL": "INFO"},
            folder / f"consumer-{number}.log",
            marker="app.kafka.consumer: assigned",
        )
        processes[f"beat-{number}"] = Process(
            f"beat-{number}", [*celery, "beat", "--loglevel", "INFO"], env,
            folder / f"beat-{number}.log", marker="beat: ",
        )  # fmt: skip
    return processes


def _nginx(folder: Path, port: int, apis: list[Process]) -> Process:
    servers = "\n".join(
        f"    server 127.0.0.1:{api.port} max_fails=1 fail_timeout=2s;" for api in apis
    )
    user = "user root;" if os.geteuid() == 0 else ""
    config = folder / "nginx.conf"
    config.write_text(NGINX.format(user=user, folder=folder, servers=servers, port=port))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return Process("nginx", [nginx, "-c", str(config), "-p", str(folder)], dict(os.environ),
                   folder / "nginx.log")  # fmt: skip


def _seed(app) -> dict:
    """A dataset, two grants and their download packages; a feed publisher's key."""
    from nacl.public import PrivateKey, SealedBox

    from app.access.schemas import GrantRequest
    from app.access.services import create_grant
    from app.applications.services import create_application_key
    from app.catalog import services as catalog
    from app.catalog.schemas import DatasetPayload
    from app.credentials.internal_tokens import AuthUser
    from app.extensions import db
    from app.work_packages.schemas import CreationRequest
    from app.work_packages.services import create_work_package

    seeded = {}
    with app.app_context():
        payload = {
            "accession": "CHAOS1", "title": "Chaos", "stage": "download", "dac_alias": "DAC",
            "dac_email": "dac@example.org",
            "files": [{"accession": "GHGAFCHAOS1", "file_extension": ".bam"}],
        }  # fmt: skip
        dataset, _ = catalog.upsert_dataset(DatasetPayload.model_validate(payload))
        catalog.put_accession_map(dataset.files[0].accession, uuid4())
        for name in ("kept", "revoked"):
            user = AuthUser(id=uuid4(), name=f"Chaos {name}", email=f"{name}@example.org")
            key = PrivateKey.generate()
            grant = create_grant(
                GrantRequest(
                    user_id=user.id,
                    dataset_id="CHAOS1",
                    valid_until=datetime.now(UTC) + timedelta(days=30),
                ),
                granted_by="chaos",
            )
            public = base64.b64encode(bytes(key.public_key)).decode()
            created = create_work_package(
                user,
                CreationRequest(
                    type="download", dataset_id="CHAOS1", user_public_crypt4gh_key=public
                ),
            )
            db.session.commit()
            token = SealedBox(key).decrypt(base64.b64decode(created.sealed_token)).decode()
            url = f"/work-packages/{created.package.id}/files/GHGAFCHAOS1/work-order-tokens"
            seeded[name] = (url, token)
            if name == "revoked":
                seeded["grant_id"] = grant.id
        issued = create_application_key("chaos-feed", ["feed_publisher"])
        db.session.commit()
        seeded["feed_key"] = issued.key
    return seeded


def _in_database(app, work, attempts: int = 30):
    """`work()` in an app context, again on a fresh pool while the database restarts."""
    from sqlalchemy.exc import OperationalError

    from app.extensions import db

    for attempt in range(attempts):
        with app.app_context():
            try:
                return work()
            except OperationalError:
                if attempt == attempts - 1:
                    raise
                db.session.rollback()
                db.engine.dispose()
            finally:
                db.session.remove()
        time.sleep(1)
    return None


def _revoke(app, grant_id) -> float:
    from app.access.services import revoke_grant
    from app.extensions import db

    def revoke() -> float:
        revoke_grant(grant_id)
        db.session.commit()
        return time.monotonic()

    return _in_database(app, revoke)


def _kill(target, processes, postgres, broker, started, base) -> dict:
    at = time.monotonic()
    kill = {"process": target.rsplit("-", 1)[0] if target[-1].isdigit() else target,
            "target": target, "at": round(at - started, 1)}  # fmt: skip
    if target == "postgres":
        postgres.kill()
        postgres.restart()
        with suppress(RuntimeError):
            wait_until(lambda: answers(f"{base}/health/ready"), 60, "the balancer")
    elif target == "broker":
        broker.set_broker(1, up=False)
        time.sleep(BROKER_DOWN_SECONDS)
        broker.set_broker(1, up=True)
    else:
        process = processes[target]
        seen = process.markers()
        process.kill()
        process.start()
        ready = process.ready or (lambda: process.markers() > seen)
        with suppress(RuntimeError):
            wait_until(ready, 90, target)
    kill["recovery"] = round(time.monotonic() - at, 1)
    return kill


def _wot_client(base, package, kind, tally: Tally, stopped) -> None:
    url, token = package
    with requests.Session() as session:
        while not stopped.is_set():
            at = time.monotonic()
            try:
                status = session.post(
                    base + url, headers={"Authorization": f"Bearer {token}"}, timeout=30
                ).status_code
            except requests.RequestException as error:
                status = type(error).__name__
            tally.record(kind, at, status)
            if kind == "wot-revoked" and isinstance(status, int) and 200 <= status < 300:
                tally.after_revocation.append(at)
            if not (isinstance(status, int) and 200 <= status < 300):
                time.sleep(0.2)


def _dataset_event(key: str, version: int) -> dict:
    return {
        "accession": key, "title": f"version {version}", "stage": "download",
        "dac_alias": "DAC", "dac_email": "dac@example.org",
        "files": [{"accession": f"GHGAF{key}", "file_extension": ".bam"}],
    }  # fmt: skip


def _http_events(base, feed_key, tally: Tally, sent, stopped) -> None:
    """Batches of one event per key, each batch retried with the same ids until taken."""
    version = 0
    with requests.Session() as session:
        while not stopped.is_set():
            version += 1
            batch = [
                {"event_id": f"http-{key}-{version}", "topic": DATASET_TOPIC,
                 "type": "dataset_upserted", "key": key, "payload": _dataset_event(key, version)}
                for key in HTTP_KEYS
            ]  # fmt: skip
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                at = time.monotonic()
                try:
                    status = session.post(
                        f"{base}/events", json=batch, timeout=30,
                        headers={"Workflow-API-Key": feed_key},
                    ).status_code  # fmt: skip
                except requests.RequestException as error:
                    status = type(error).__name__
                tally.record("events", at, status)
                if isinstance(status, int) and 200 <= status < 300:
                    for key in HTTP_KEYS:
                        sent[key].append(version)
                    break
                time.sleep(0.5)
            time.sleep(0.3)


def _kafka_events(bootstraps, sent, stopped) -> None:
    """Dataset events as hexkit publishes them, by an idempotent producer (in order)."""
    from confluent_kafka import Producer

    producer = Producer(
        {"bootstrap.servers": bootstraps, "enable.idempotence": True, "linger.ms": 5}
    )
    lock = threading.Lock()

    def delivered(error, message) -> None:
        if error is None:
            key = message.key().decode()
            with lock:
                sent[key].append(json.loads(message.value())["title"].split()[-1])

    version = 0
    while not stopped.is_set():
        version += 1
        for key in KAFKA_KEYS:
            producer.produce(
                DATASET_TOPIC,
                key=key,
                value=json.dumps(_dataset_event(key, version)),
                headers=[
                    ("type", b"dataset_upserted"),
                    ("event_id", f"kafka-{key}-{version}".encode()),
                    ("correlation_id", str(uuid4()).encode()),
                ],
                on_delivery=delivered,
            )  # fmt: skip
        producer.poll(0)
        time.sleep(0.3)
    producer.flush(120)
    for key in sent:
        sent[key] = [int(version) for version in sent[key]]


def _drain(app, sent, seconds: float) -> float:
    from sqlalchemy import text

    from app.extensions import db

    expected = sum(len(versions) for kind in sent.values() for versions in kind.values())
    query = text(
        "SELECT count(*) FROM inbox_event WHERE status = 'applied' AND "
        "(key LIKE 'CHAOSH%' OR key LIKE 'CHAOSK%')"
    )

    def applied() -> bool:
        return _in_database(app, lambda: db.session.execute(query).scalar()) >= expected

    with suppress(RuntimeError):
        return round(wait_until(applied, seconds, "every event applied"), 1)
    return -1.0


def _check_events(app, sent) -> dict:
    """Exactly once, in order per key, each dataset at its last version."""
    from sqlalchemy import text

    from app.extensions import db

    problems = []
    rows = _in_database(
        app,
        lambda: db.session.execute(
            text(
                "SELECT key, event_id, status, payload, finished_at, id FROM inbox_event "
                "WHERE key LIKE 'CHAOSH%' OR key LIKE 'CHAOSK%'"
            )
        ).all(),
    )
    titles = dict(
        _in_database(
            app,
            lambda: db.session.execute(
                text("SELECT accession, title FROM dataset WHERE accession LIKE 'CHAOS%'")
            ).all(),
        )
    )
    by_key = defaultdict(list)
    for key, event_id, status, payload, finished_at, row_id in rows:
        payload = json.loads(payload) if isinstance(payload, str) else payload
        version = int(payload["title"].split()[-1])
        by_key[key].append((version, status, finished_at, event_id, row_id))
    accepted = 0
    for kind in sent.values():
        for key, versions in kind.items():
            accepted += len(versions)
            stored = by_key.get(key, [])
            if sorted(v for v, *_ in stored) != sorted(set(versions)):
                problems.append(f"{key}: stored versions differ from the accepted ones")
            not_applied = [v for v, status, *_ in stored if status != "applied"]
            if not_applied:
                problems.append(f"{key}: versions {not_applied[:5]} not applied")
            finished = [f for _, _, f, *_ in sorted(stored)]
            if any(a and b and a > b for a, b in itertools.pairwise(finished)):
                problems.append(f"{key}: applied out of order")
            if versions and titles.get(key) != f"version {max(versions)}":
                problems.append(f"{key}: dataset at {titles.get(key)!r}, last was {max(versions)}")
    return {
        "accepted": accepted,
        "stored": len(rows),
        "applied": sum(1 for row in rows if row[2] == "applied"),
        "problems": problems[:20],
        "ok": not problems and accepted > 0,
    }


def _check_revocation(tally: Tally, revoked_after: float | None, started: float) -> dict:
    after = [
        at
        for at in tally.after_revocation
        if revoked_after is not None and at - started > revoked_after
    ]
    return {
        "revoked_at_second": round(revoked_after or -1, 1),
        "issued_after_revocation": len(after),
    }


def table(figures: dict) -> str:
    """The run as a table (the seed first: the same seed kills the same processes)."""
    kills = Counter(kill["process"] for kill in figures["kills"])
    recovery: dict[str, float] = {}
    for kill in figures["kills"]:
        recovery[kill["process"]] = max(recovery.get(kill["process"], 0), kill.get("recovery", 0))
    errors = Counter()
    for outcome, count in figures["outcomes"].items():
        kind, status = outcome.split(" ", 1)
        if not status.isdigit() or not 200 <= int(status) < 300:
            errors[f"{kind} {status}"] += count
    events = figures["events"]
    rows = [
        ("seed", figures["seed"]),
        ("minutes (elapsed s)", f"{figures['minutes']:g} ({figures['elapsed_seconds']})"),
        ("requests", ", ".join(f"{k} {v}" for k, v in sorted(figures["requests"].items()))),
        ("errors by kind", ", ".join(f"{k}: {v}" for k, v in sorted(errors.items())) or "none"),
        ("kills by process", ", ".join(f"{k} {v}" for k, v in sorted(kills.items()))),
        ("kills (s: process)", ", ".join(f"{k['at']:g}: {k['target']}" for k in figures["kills"])),
        ("max recovery (s)", ", ".join(f"{k} {v:g}" for k, v in sorted(recovery.items()))),
        (
            "events accepted / stored / applied",
            f"{events['accepted']} / {events['stored']} / {events['applied']}",
        ),
        ("events drained after load (s)", events["drained_seconds"]),
        ("event problems", "; ".join(events["problems"]) or "none"),
        ("WOTs issued after revocation", figures["revocation"]["issued_after_revocation"]),
        (
            "5xx outside kill windows",
            "; ".join(
                [str(figures["server_errors_outside_kill_windows"])]
                + [f"{kind} {status} at {at:g} s" for kind, at, status in figures["outside"][:5]]
            ),
        ),
        ("non-retryable answers", ", ".join(figures["not_retryable"]) or "none"),
        ("result", "PASSED" if figures["passed"] else "FAILED"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def record_table(figures: dict) -> Path:
    """The table, in docs/benchmarks.md's chaos section (replaced on every record)."""
    document = ROOT / "docs" / "benchmarks.md"
    heading = "## Chaos run (`invoke chaos`)"
    text = document.read_text()
    before = text.split(heading)[0].rstrip() + "\n\n"
    section = (
        f"{heading}\n\nWritten by `invoke chaos --minutes {figures['minutes']:g} --record` on "
        f"{os.cpu_count()} CPUs at {datetime.now(UTC).isoformat(timespec='seconds')}; the "
        "processes, load and checks are described in devtools/chaos.py.\n\n```\n"
        f"{table(figures)}\n```\n"
    )
    document.write_text(before + section)
    return document


def main(minutes: float, seed: int | None, keep: bool = False) -> dict:
    seed = seed if seed is not None else random.SystemRandom().randrange(1_000_000)
    folder = Path(tempfile.mkdtemp(prefix="wps-chaos-"))
    os.chmod(folder, 0o755)  # noqa: S103 - PostgreSQL runs as its own user inside it
    try:
        figures = run_chaos(minutes, seed, folder)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    figures["folder"] = str(folder) if keep else None
    return figures


if __name__ == "__main__":
    print(table(main(float(sys.argv[1]) if len(sys.argv) > 1 else 1, None, keep=True)))
