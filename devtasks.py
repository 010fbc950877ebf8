"""Developer tasks: serving, workers, checks, generated files, the benchmark.

The operator commands (accounts, keys, grants, events) are in ops/; tasks.py
collects both for `invoke`.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

from invoke import Exit, task

from ops.command import app_context, number, operator_command

ROOT = Path(__file__).resolve().parent
CONFIGURATION = ROOT / "docs" / "configuration.md"
OPENAPI_FILE = ROOT / "openapi.yaml"


def _flask(c, command: str) -> None:
    c.run(f"{sys.executable} -m flask --app run {command}", pty=False)


@task
def db_upgrade(c):
    """Apply all database migrations."""
    _flask(c, "db upgrade")


@task(
    help={
        "host": "address to bind",
        "port": "port to listen on",
        "workers": "server worker processes",
        "threads": "threads per worker process",
        "migrate": "apply database migrations first (default: yes)",
    }
)
def serve(c, host="127.0.0.1", port=5000, workers=1, threads=2, migrate=True):
    """Apply migrations and serve the API with granian (embedded default: SQLite)."""
    if migrate:
        db_upgrade(c)
    print(f"Swagger UI: http://{host}:{port}/apidocs", file=sys.stderr)
    from app.serving import server_command

    command = server_command(host, int(port), int(workers), int(threads))
    sys.stdout.flush()
    sys.stderr.flush()
    # The server replaces this process, so that signals (docker stop, the
    # benchmark's terminate) reach it directly.
    os.execv(command[0], command)  # noqa: S606 - a fixed argument list, no shell


@task(help={"concurrency": "worker processes"})
def worker(c, concurrency=2):
    """Run a Celery worker (needs CELERY_BROKER_URL)."""
    c.run(
        f"{sys.executable} -m celery -A workers.main worker --loglevel INFO "
        f"--concurrency {concurrency}",
        pty=False,
    )


@task
def beat(c):
    """Run the Celery beat scheduler (needs CELERY_BROKER_URL)."""
    c.run(f"{sys.executable} -m celery -A workers.main beat --loglevel INFO", pty=False)


@task(pre=[db_upgrade])
@operator_command()
def demo(c):
    """Development: an admin, a steward, a researcher (each with a second factor whose key
    is printed), a newcomer to accept, and dataset GHGAD00000000042 with a file to download."""
    from app.demo import DATASET, make_demo

    with app_context():
        people = make_demo()
    for person in people:
        factor = f"TOTP key {person.totp_key}" if person.totp_key else "no second factor yet"
        print(f"{person.role:<10} {person.status:<8} {person.email:<26} {factor}")
    print(f"dataset    {DATASET} (one file with content)")
    print("Codes without an authenticator app: invoke totp-code EMAIL")


@task(help={"email": "the person's e-mail address"})
@operator_command()
def totp_code(c, email):
    """Development: the second-factor code a person's authenticator app shows now."""
    from app.demo import totp_code as current

    with app_context():
        print(current(email))


@task(help={"k": "only tests matching this expression", "x": "stop at the first failure"})
def test(c, k="", x=False):
    """Run the whole test suite against PostgreSQL and Redis."""
    options = (f" -k {k!r}" if k else "") + (" -x" if x else "")
    c.run(f"{sys.executable} -m pytest{options}", pty=False)


@task(help={"folder": "where the PNGs go"})
def screenshots(c, folder="docs/screenshots"):
    """Run the browser suite and keep its screenshots of the main pages (desktop and phone)."""
    env = {"WPS_SCREENSHOTS": str(Path(folder).resolve())}
    c.run(f"{sys.executable} -m pytest -q -p no:cacheprovider tests/browser", env=env, pty=False)


@task
def lint(c):
    """ruff: lint and formatting check."""
    c.run(f"{sys.executable} -m ruff check .", pty=False)
    c.run(f"{sys.executable} -m ruff format --check .", pty=False)


@task(help={"check": "fail if openapi.yaml is stale instead of writing it"})
def openapi(c, check=False):
    """Write openapi.yaml from the code (or check that it is current)."""
    from app.docs_generation import openapi_yaml

    _write_or_check(OPENAPI_FILE, openapi_yaml(), check, "invoke openapi")


@task(help={"check": "fail if docs/configuration.md is stale instead of writing it"})
def config_docs(c, check=False):
    """Write docs/configuration.md's table of settings from the settings model."""
    from app.docs_generation import with_settings_table

    text = CONFIGURATION.read_text()
    _write_or_check(CONFIGURATION, with_settings_table(text), check, "invoke config-docs")


def _write_or_check(path: Path, content: str, check: bool, fix: str) -> None:
    if check:
        if not path.exists() or path.read_text() != content:
            raise Exit(f"{path.name} is stale: run `{fix}` and commit it", code=1)
        print(f"{path.name} is current")
        return
    path.write_text(content)
    print(f"wrote {path.name}")


@task(pre=[lint])
def precommit(c):
    """Everything CI checks: lint, generated files, the test suite."""
    openapi(c, check=True)
    config_docs(c, check=True)
    test(c)


@task(
    help={
        "user_id": "the user's id (uuid); default: a new one",
        "name": "the user's name",
        "email": "the user's e-mail address",
        "title": "academic title, e.g. Dr.",
        "minutes": "lifetime of the token",
    }
)
@operator_command()
def issue_dev_token(
    c, user_id="", name="Ada Lovelace", email="ada@example.org", title="", minutes="60"
):
    """Print an internal token signed with the development key (embedded default only)."""
    from uuid import uuid4

    from app.credentials.internal_tokens import SECOND_FACTOR_AMR, AuthUser, issue_internal_token
    from app.credentials.keys import token_keys

    # The operator's console stands in for the portal here: the token counts as
    # made after the second factor (`amr`), as the portal's API tokens do.
    user = AuthUser(
        id=user_id or uuid4(),
        name=name,
        email=email,
        title=title or None,
        amr=list(SECOND_FACTOR_AMR),
    )
    with app_context():
        keys = token_keys()
        if keys.auth_signing is None:
            raise Exit(
                "error: AUTH_KEY is configured; tokens come from that identity provider", code=1
            )
        print(issue_internal_token(keys, user, timedelta(minutes=number(minutes, "minutes"))))


@task(
    help={
        "database_url": "PostgreSQL database for the benchmark (created and emptied)",
        "seconds": "length of each load run",
        "connections": "concurrent clients",
        "workers": "server worker processes (invoke serve --workers)",
        "threads": "threads per worker process (invoke serve --threads)",
        "runs": "load runs; the median is reported",
        "load_seconds": "length of the long load run",
        "big_table": "work packages stored for the cost-against-size figure",
        "record": "also write docs/benchmarks.md",
        "redis_url": "Redis for the Celery workers of the Kafka figure",
    }
)
def bench(
    c,
    database_url="",
    seconds=10,
    connections=32,
    workers=2,
    threads=2,
    port=5055,
    runs=3,
    record=False,
    load_seconds=60,
    big_table=1_000_000,
    redis_url="redis://127.0.0.1:6379/13",
):
    """Benchmark `invoke serve` on PostgreSQL; prints a table, writes bench-results/latest.json."""
    from benchmarks import environment
    from benchmarks.run import record as record_docs
    from benchmarks.run import run, save, table

    figures = run(
        database_url or environment.DEFAULT_DATABASE_URL,
        int(port),
        int(seconds),
        int(connections),
        int(workers),
        int(threads),
        int(runs),
        int(load_seconds),
        int(big_table),
        redis_url,
    )
    print(table(figures))
    print(f"\nfigures written to {save(figures)}")
    if record:
        print(f"recorded in {record_docs(figures)}")


@task(
    help={
        "minutes": "how long the load runs (a kill every 30 s)",
        "seed": "the kill schedule's seed (default: a new one, printed)",
        "keep": "keep the run's folder (logs of every process)",
        "record": "write the table into docs/benchmarks.md",
    }
)
def chaos(c, minutes=10.0, seed=None, keep=False, record=False):
    """Every process as replicas on one machine, killed one at a time; checks nothing is lost."""
    from devtools.chaos import main, record_table, table

    figures = main(float(minutes), int(seed) if seed is not None else None, keep)
    print(table(figures))
    if figures.get("folder"):
        print(f"\nlogs in {figures['folder']}")
    if record:
        print(f"recorded in {record_table(figures)}")
    if not figures["passed"]:
        raise SystemExit(1)
