"""`invoke chaos`: every process of a replicated deployment on one machine, a mixed
load through a balancer, and one process killed with SIGKILL every 30 s.

Everything runs on 127.0.0.1 with services of its own, so the machine's shared
PostgreSQL and Redis are never touched: PostgreSQL (`initdb` on a free port), Redis
(the Celery broker and the rate limits), the librdkafka mock cluster (its faults by
its own injection: a restart would lose its log), S3 (a moto server process, never
killed: it is the object storage and keeps its objects in memory), a real OpenID
provider (`oidc-provider-mock`), 3 API processes behind nginx (`TRUSTED_PROXY_HOPS=1`;
nginx names the process that answered in `X-Chaos-Upstream`), 2 Celery workers,
2 Kafka consumers, 2 beats (one sends). Every process stores files in S3.

The load, for the given time (the clients: devtools/chaos_load.py and
devtools/chaos_transfers.py): work order tokens through the balancer, on one package
whose grant stays and one whose grant is revoked half-way; dataset change events over
HTTP (`POST /events`, retried with the same ids until accepted) and over Kafka (an
idempotent producer); the unmodified ghga-connector 4.0.1 downloading a dataset of
two stored files (one in several parts) and decrypting it, and uploading one new
random file per round to a granted upload box, each run on a work package made
through the balancer; people signing in through the provider (`/login`, the
provider's page, the callback), reading pages (`/`, the catalog, a dataset page it
links to, their access, their profile) and signing out, and every fourth person new
to the service, whose sign-in ends on the pending page. A seeded schedule picks,
every 30 s, one of: an API process, a worker, a consumer, a beat, the Kafka broker
(down 10 s) or PostgreSQL; it is killed with SIGKILL and started again at once.

At the end, with every process up again, it checks (devtools/chaos_checks.py): every
accepted event applied exactly once, in order per key, and each dataset at its last
version; no work order token issued for a request made after its grant's revocation
was committed; every upload the connector reported as done reached `completed` and
its object is in S3 with the stored size, and every download decrypted to the stored
bytes; every request answered 2xx or retryably (429/502/503/504, or a dropped
connection); no 5xx outside a kill window (a kill until the process answers again,
plus 5 s). A connector run or a sign-in that failed is retryable if a kill window
overlaps it (the connector's is run again on a new package), a finding if none does;
so is a signed-in person sent back to sign in: sessions are rows every API process
reads. It prints a table with the seed; exit status 1 if a check failed.
"""

import base64
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import requests

from devtools.chaos_checks import (
    DRAIN_SECONDS,
    check_events,
    check_revocation,
    check_uploads,
    drain_events,
    in_database,
    judge_runs,
    wait_until,
)
from devtools.chaos_load import (
    DATASET_TOPIC,
    Reader,
    Tally,
    client_thread,
    http_events,
    kafka_events,
    sign_in_client,
    wot_client,
)
from devtools.chaos_transfers import (
    CONNECTOR_SECONDS,
    STORAGE_ALIAS,
    Transfers,
    connector_in,
    download_client,
    seed_transfers,
    upload_client,
)
from devtools.local_services import free_port

ROOT = Path(__file__).resolve().parent.parent
KILL_EVERY_SECONDS = 30
BROKER_DOWN_SECONDS = 10
GRACE_SECONDS = 5
READERS = 3


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
      add_header X-Chaos-Upstream $upstream_addr always;
    }}
  }}
}}
"""


def run_chaos(minutes: float, seed: int, folder: Path) -> dict:
    """Start everything, load it for `minutes` while killing, check, return the figures."""
    schedule_random = random.Random(seed)  # noqa: S311 - a reproducible schedule, not a secret
    with ExitStack() as stack:
        backing = _backing_services(stack, folder)
        nginx_port = free_port()
        base = f"http://127.0.0.1:{nginx_port}"
        env = _environment(backing, folder, base)
        _migrate(env)
        app = _app(env)
        seeded = _seed(app) | _seed_people(app, backing["provider"])

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
        transfers = Transfers(
            base, connector_in(folder / "connector", base), seeded["transfer_headers"], tally,
            stop_load,
        )  # fmt: skip
        loaders = _loaders(base, backing, seeded, transfers, sent, seed)
        started = time.monotonic()
        stack.callback(stop_load.set)  # on any failure too: the loaders end with the run
        for loader in loaders:
            loader.start()

        schedule = (schedule_random, processes, backing, base, started)
        kills, revoked_at = _kill_while_loaded(minutes * 60, schedule, app, seeded["grant_id"])
        stop_load.set()
        for loader in loaders:
            loader.join(timeout=CONNECTOR_SECONDS + 60)
        elapsed = time.monotonic() - started

        for name, process in processes.items():
            if process.popen.poll() is not None:
                process.start()  # a process that died by itself is a finding too
                kills.append({"process": name, "at": time.monotonic() - started, "died": True})
        drained = drain_events(app, sent, seconds=DRAIN_SECONDS)
        checks = {
            "events": check_events(app, sent) | {"drained_seconds": drained},
            "revocation": check_revocation(tally, revoked_at - started, started),
            "uploads": check_uploads(app, tally, seeded["file_box_id"]),
        }
    return _figures(seed, minutes, elapsed, tally, kills, checks, started)


def _backing_services(stack: ExitStack, folder: Path) -> dict:
    """What the replicas share: PostgreSQL, Redis, Kafka, S3 and the OpenID provider.
    The schedule kills only PostgreSQL and the broker; moto keeps its objects in memory
    (a restart would lose them, as the Kafka mock its log)."""
    from devtools.kafka_mock_broker import mock_broker
    from devtools.oidc_provider import running_provider

    postgres = Postgres(folder)
    postgres.start()
    wait_until(postgres.ready, 60, "postgres")
    stack.callback(postgres.stop)
    redis_port, s3_port = free_port(), free_port()
    redis = Process(
        "redis",
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        dict(os.environ), folder / "redis.log",
    )  # fmt: skip
    s3 = Process(
        "s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
        dict(os.environ), folder / "s3.log",
    )  # fmt: skip
    for process in (redis, s3):
        process.start()
        stack.callback(process.stop)
    broker = stack.enter_context(mock_broker(folder / "kafka.log"))
    broker.create_topics(*_subscribed_topics(), partitions=3)
    s3_url = f"http://127.0.0.1:{s3_port}"
    wait_until(lambda: answers(f"{s3_url}/moto-api/"), 30, "S3 (moto)")
    provider = stack.enter_context(running_provider(folder))
    return {"postgres": postgres, "redis_port": redis_port, "broker": broker, "s3_url": s3_url,
            "provider": provider}  # fmt: skip


def _subscribed_topics() -> list[str]:
    """Every topic the consumers subscribe to, as a deployment has them (with only the
    dataset topic, every restarted consumer joined its group subscribed to two topics
    the cluster did not know)."""
    from app.config import Settings

    fields = Settings.model_fields
    names = ("dataset_change_topic", "upload_box_topic", "accession_map_topic")
    topics = [fields[name].default for name in names]
    assert DATASET_TOPIC in topics
    return topics


def _loaders(base, backing, seeded, transfers: Transfers, sent, seed: int) -> list:
    """The clients, each a thread; few of them, on 2 cores."""
    tally, stopped = transfers.tally, transfers.stopped
    clients = [(wot_client, (base, seeded["kept"], "wot", tally, stopped))] * 3 + [
        (wot_client, (base, seeded["revoked"], "wot-revoked", tally, stopped)),
        (http_events, (base, seeded["feed_key"], tally, sent["http"], stopped)),
        (kafka_events, (backing["broker"].bootstraps, sent["kafka"], stopped)),
        (download_client, (transfers, seeded["files"])),
        (upload_client, (transfers, seeded["box_id"], seed)),
        (sign_in_client, (base, backing["provider"], seeded["readers"], tally, stopped)),
    ]
    return [client_thread(tally, target, *args) for target, args in clients]


def _kill_while_loaded(duration: float, schedule, app, grant_id) -> tuple[list[dict], float]:
    """Every KILL_EVERY_SECONDS one process by the seeded schedule; the grant revoked
    half-way. The kills, and when the revocation was committed."""
    schedule_random, processes, backing, base, started = schedule
    kills: list[dict] = []
    # A kind of process first, each as likely, then one of its replicas.
    kinds = defaultdict(list)
    for name in [*processes, "postgres", "broker"]:
        kinds[name.rsplit("-", 1)[0] if name[-1].isdigit() else name].append(name)
    revoked_at = None
    next_kill = started + KILL_EVERY_SECONDS / 2
    while time.monotonic() - started < duration:
        if revoked_at is None and time.monotonic() - started >= duration / 2:
            revoked_at = _revoke(app, grant_id)
        if time.monotonic() >= next_kill:
            kind = schedule_random.choice(sorted(kinds))
            target = schedule_random.choice(kinds[kind])
            kills.append(
                _kill(target, processes, backing["postgres"], backing["broker"], started, base)
            )
            next_kill += KILL_EVERY_SECONDS
        time.sleep(0.2)
    if revoked_at is None:
        revoked_at = _revoke(app, grant_id)
    return kills, revoked_at


def _figures(seed, minutes, elapsed, tally: Tally, kills, checks: dict, started) -> dict:
    windows = [
        # From 0.1 s before the rounded time of the kill: an answer in the same tenth of
        # a second as the kill may otherwise fall just before its window.
        (kill["at"] - 0.1, kill["at"] + kill.get("recovery", 60) + GRACE_SECONDS)
        for kill in kills
    ]
    outside = [
        error for error in tally.server_errors
        if not any(start <= error[1] - started <= end for start, end in windows)
    ]  # fmt: skip
    runs = judge_runs(tally, windows, started)
    events, wots, uploads = checks["events"], checks["revocation"], checks["uploads"]
    return {
        "seed": seed,
        "minutes": minutes,
        "elapsed_seconds": round(elapsed, 1),
        "requests": dict(tally.requests),
        "outcomes": {f"{kind} {status}": count for (kind, status), count in tally.outcomes.items()},
        "kills": kills,
        "events": events,
        "revocation": wots,
        "uploads": uploads,
        "journeys": dict(tally.journeys),
        "runs": runs,
        "mismatches": tally.mismatches[:20],
        "crashed": tally.crashed,
        "server_errors_outside_kill_windows": len(outside),
        "outside": [(kind, round(at - started, 1), status) for kind, at, status in outside][:20],
        "not_retryable": [f"{kind} {status}" for kind, _, status in tally.unanswered][:20],
        "passed": (
            not outside
            and not tally.unanswered
            and events["ok"]
            and not wots["issued_after_revocation"]
            and not any(kill.get("died") for kill in kills)
            and uploads["ok"]
            and tally.journeys["downloads compared equal"] > 0
            and not tally.mismatches
            and tally.journeys["sign-ins (active)"] > 0
            and not runs["findings"]
            and not runs["bounces"]
            and not tally.crashed
        ),
    }


def _environment(backing: dict, folder: Path, base: str) -> dict:
    from app.credentials.jwk import generate_private_jwk

    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SQLALCHEMY", "CELERY"))}
    instance = folder / "instance"
    instance.mkdir()
    return (
        keep
        | backing["provider"].environment()
        | {
            "SQLALCHEMY_DATABASE_URI": backing["postgres"].url,
            "SQLALCHEMY_POOL_SIZE": "4",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{backing['redis_port']}/0",
            "CELERY_VISIBILITY_TIMEOUT": "30",
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "chaos-secret-key",
            "AUTH_SIGNING_KEY": generate_private_jwk(),
            "WORK_PACKAGE_SIGNING_KEY": generate_private_jwk(),
            "STORAGE_CRYPT4GH_PRIVATE_KEY": base64.b64encode(os.urandom(32)).decode(),
            "PUBLIC_BASE_URL": base,
            "TRUSTED_PROXY_HOPS": "1",
            "KAFKA_SERVERS": json.dumps([backing["broker"].bootstraps]),
            "SERVICE_NAME": "wps-chaos",
            "KAFKA_MAX_RETRIES": "1000",
            "KAFKA_RETRY_BACKOFF": "1",
            "EVENT_REQUEUE_AFTER_SECONDS": "5",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "text",
            "STORAGE_BACKEND": "s3",
            "STORAGE_ALIAS": STORAGE_ALIAS,
            "S3_ENDPOINT_URL": backing["s3_url"],
            "S3_BUCKET": "wps-chaos",
            "S3_ACCESS_KEY_ID": "chaos",
            "S3_SECRET_ACCESS_KEY": "chaos",
            # Every client comes from 127.0.0.1 here; the limit is per address.
            "SIGN_IN_RATE_LIMIT": "600 per minute",
        }
    )


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


def _seed_people(app, provider) -> dict:
    """Readers with accounts (active; the first sign-in links them by their verified
    address), and a person who transfers files with the connector."""
    from app.accounts.models import User, UserStatus
    from app.credentials.internal_tokens import SECOND_FACTOR_AMR, AuthUser, issue_internal_token
    from app.extensions import db

    readers = []
    with app.app_context():
        for number in range(READERS):
            sub, email = f"reader-{number}", f"reader-{number}@chaos.example"
            db.session.add(User(
                id=uuid4(), name=f"Reader {number}", email=email, email_key=email,
                status=UserStatus.ACTIVE.value, role="researcher",
            ))  # fmt: skip
            provider.person(sub, email=email, email_verified=True, name=f"Reader {number}")
            readers.append(Reader(sub, active=True))
        db.session.commit()
    # A token as the portal issues it after the second factor: packages need one.
    person = AuthUser(
        id=uuid4(), name="Chaos Transfers", email="transfers@chaos.example",
        amr=list(SECOND_FACTOR_AMR),
    )  # fmt: skip
    keys = app.extensions["token_keys"]

    def transfer_headers() -> dict:
        return {"Authorization": f"Bearer {issue_internal_token(keys, person)}"}

    return {"readers": readers, "transfer_headers": transfer_headers} | seed_transfers(
        app, person.id
    )


def _revoke(app, grant_id) -> float:
    from app.access.services import revoke_grant
    from app.extensions import db

    def revoke() -> float:
        revoke_grant(grant_id)
        db.session.commit()
        return time.monotonic()

    return in_database(app, revoke)


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


def table(figures: dict) -> str:
    """The run as a table (the seed first: the same seed kills the same processes)."""
    kills = Counter(kill["process"] for kill in figures["kills"])
    recovery: dict[str, float] = {}
    for kill in figures["kills"]:
        recovery[kill["process"]] = max(recovery.get(kill["process"], 0), kill.get("recovery", 0))
    errors = Counter()
    for outcome, count in figures["outcomes"].items():
        kind, status = outcome.split(" ", 1)
        # A redirect is a page's answer (to the provider, onwards, to the second factor).
        if not status.isdigit() or not 200 <= int(status) < 400:
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
        *_journey_rows(figures),
        ("result", "PASSED" if figures["passed"] else "FAILED"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _journey_rows(figures: dict) -> list[tuple[str, object]]:
    """Connector transfers and sign-ins: what they achieved, what was tried again."""
    done, uploads, runs = Counter(figures["journeys"]), figures["uploads"], figures["runs"]
    retried = Counter(runs["retried"])
    return [
        (
            "uploads accepted / verified",
            f"{uploads['accepted']} / {uploads['verified']} (verified {uploads['verified_seconds']}"
            f" s after the load; {retried['upload']} runs retried)",
        ),
        (
            "downloads ok / retried",
            f"{done['downloads compared equal']} / {retried['download']}",
        ),
        ("transfer problems", "; ".join(uploads["problems"] + figures["mismatches"]) or "none"),
        (
            "sign-ins active / pending / failed in a kill",
            f"{done['sign-ins (active)']} / {done['sign-ins (pending)']} / {retried['sign-in']}",
        ),
        (
            "pages read signed in",
            f"{done['pages read signed in']} ({done['sessions read on 2+ API processes']} sessions "
            f"read on 2+ API processes; {done['sign-outs']} sign-outs honoured)",
        ),
        ("bounced to sign-in outside kills", "; ".join(runs["bounces"]) or "none"),
        ("failed runs outside kill windows", "; ".join(runs["findings"]) or "none"),
        ("clients that crashed", "; ".join(figures["crashed"]) or "none"),
    ]


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
