"""Developer and operator tasks: `invoke --list` shows them all."""

import os
import sys
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path

from invoke import Exit, task

ROOT = Path(__file__).resolve().parent
README = ROOT / "README.md"
OPENAPI_FILE = ROOT / "openapi.yaml"


@contextmanager
def _app_context():
    from app import create_app

    app = create_app()
    with app.app_context():
        yield app


def one_line_errors(body):
    """An operator command whose expected failures end in one line on stderr, exit status 1.

    Scripts read the exit status; people read one sentence, not a traceback.
    Anything not listed here is a bug and keeps its traceback.
    """

    @wraps(body)
    def command(c, *args, **kwargs):
        from pydantic import ValidationError
        from sqlalchemy.exc import SQLAlchemyError

        from app.errors import DomainError

        try:
            return body(c, *args, **kwargs)
        except ValidationError as error:
            message = "; ".join(_field_message(item) for item in error.errors())
        except DomainError as error:
            detail = error.detail
            message = detail if isinstance(detail, str) else "; ".join(map(_field_message, detail))
        except SQLAlchemyError as error:
            cause = getattr(error, "orig", None) or error
            message = "database: " + str(cause).strip().splitlines()[0]
        except (ValueError, OSError) as error:
            message = str(error)
        raise Exit(f"error: {message}", code=1)

    return command


def _number(text: str, option: str, kind=int):
    # Options are taken as text: invoke's own conversion would fail with a traceback.
    try:
        return kind(text)
    except ValueError:
        raise Exit(f"error: --{option} takes a number, not {text!r}", code=2) from None


def _field_message(item: dict) -> str:
    place = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
    return f"{place}: {item['msg']}" if place else item["msg"]


def _flask(c, command: str) -> None:
    c.run(f"{sys.executable} -m flask --app run {command}", pty=False)


@task
def db_upgrade(c):
    """Apply all database migrations."""
    _flask(c, "db upgrade")


def server_command(
    host: str, port: int, workers: int, threads: int, target: str = "run:app"
) -> list[str]:
    """The production server: granian, WSGI, HTTP/1.1 keep-alive, `workers` processes.

    `threads` are each worker's WSGI threads (granian's blocking threads); the
    token routes keep one database connection per thread (docs/adr/0016). No
    `--respawn-failed-workers`: with it, granian 2.8 now and then respawned a
    worker while stopping and then waited for it forever (SIGTERM ignored).
    """
    return [
        sys.executable, "-m", "granian", target,
        "--interface", "wsgi",
        "--host", host,
        "--port", str(port),
        "--workers", str(workers),
        "--blocking-threads", str(threads),
        "--working-dir", str(ROOT),
        "--no-ws",
        "--log-level", "warning",
    ]  # fmt: skip


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


@task(help={"check": "fail if the README section is stale instead of writing it"})
def config_docs(c, check=False):
    """Write the README's configuration table from the settings model."""
    from app.docs_generation import readme_with_settings_table

    text = README.read_text()
    _write_or_check(README, readme_with_settings_table(text), check, "invoke config-docs")


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
    iterable=["permission"],
    help={
        "name": "application name",
        "permission": "permission name; repeat for several",
        "expires_days": "days until the key expires (default: never)",
    },
)
@one_line_errors
def create_application_key(c, name, permission, expires_days="0"):
    """Create an application key; prints API_TOKEN=<key>, the only time it is shown."""
    from app.applications import actions
    from app.authz import Actor
    from roles import ApplicationNameTaken

    days = _number(expires_days, "expires-days")
    expires_at = datetime.now(UTC) + timedelta(days=days) if days else None
    with _app_context():
        try:
            issued = actions.create_application_key(Actor.operator(), name, permission, expires_at)
        except ApplicationNameTaken as error:
            raise Exit(
                f"error: {error}; revoke it first (invoke revoke-application-key -n {name}) "
                "or choose another name",
                code=1,
            ) from None
        except ValueError as error:
            raise Exit(f"error: {error}", code=2) from None
    print(f"API_TOKEN={issued.key}")


@task(help={"name": "application name"})
@one_line_errors
def revoke_application_key(c, name):
    """Revoke every live key of the named application."""
    from app.applications import actions
    from app.authz import Actor

    with _app_context():
        count = actions.revoke_application_key(Actor.operator(), name)
    if not count:
        raise Exit(f"error: no live key for application {name!r}", code=1)
    print(f"revoked {count} key(s) of {name!r}")


@task(help={"all": "include revoked keys"})
@one_line_errors
def list_applications(c, all=False):
    """List applications: name, key prefix, permissions, state."""
    from app.applications.services import list_applications as listing

    with _app_context():
        for application in listing(include_revoked=all):
            state = "revoked" if application.revoked_at else "live"
            expires = application.expires_at.isoformat() if application.expires_at else "-"
            print(
                f"{application.name}\t{application.key_prefix}…\t"
                f"{','.join(application.permission_names)}\t{state}\texpires {expires}"
            )


@task(
    help={
        "user_id": "the user's id (uuid)",
        "dataset": "dataset accession (download access)",
        "box": "research data upload box id (upload access)",
        "days": "how long the access lasts",
    }
)
@one_line_errors
def grant_access(c, user_id, dataset="", box="", days="365"):
    """Grant a user download access to a dataset or upload access to a box."""

    from pydantic import ValidationError

    from app.access.actions import create_grant
    from app.access.schemas import GrantRequest
    from app.authz import Actor
    from app.errors import DomainError

    try:
        request = GrantRequest(
            user_id=user_id,
            dataset_id=dataset or None,
            research_data_upload_box_id=box or None,
            valid_until=datetime.now(UTC) + timedelta(days=_number(days, "days", float)),
        )
    except ValidationError as error:
        raise Exit(f"error: {error.errors()[0]['msg']}", code=2) from None
    with _app_context():
        try:
            grant = create_grant(Actor.operator(), request)
        except DomainError as error:
            raise Exit(f"error: {error.detail}", code=1) from None
    print(f"grant {grant.id}: {grant.kind} access until {grant.valid_until.isoformat()}")


@task(
    help={
        "user_id": "the user's id (uuid); default: a new one",
        "name": "the user's name",
        "email": "the user's e-mail address",
        "title": "academic title, e.g. Dr.",
        "minutes": "lifetime of the token",
    }
)
@one_line_errors
def issue_dev_token(
    c, user_id="", name="Ada Lovelace", email="ada@example.org", title="", minutes="60"
):
    """Print an internal token signed with the development key (embedded default only)."""
    from uuid import uuid4

    from app.auth.internal_tokens import SECOND_FACTOR_AMR, AuthUser, issue_internal_token
    from app.auth.keys import token_keys

    # The operator's console stands in for the portal here: the token counts as
    # made after the second factor (`amr`), as the portal's API tokens do.
    user = AuthUser(
        id=user_id or uuid4(),
        name=name,
        email=email,
        title=title or None,
        amr=list(SECOND_FACTOR_AMR),
    )
    with _app_context():
        keys = token_keys()
        if keys.auth_signing is None:
            raise Exit(
                "error: AUTH_KEY is configured; tokens come from that identity provider", code=1
            )
        print(issue_internal_token(keys, user, timedelta(minutes=_number(minutes, "minutes"))))


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


@task(help={"status": "pending, applied, skipped, dead or discarded", "limit": "most shown"})
@one_line_errors
def events(c, status="", limit="50"):
    """List inbox events, oldest first."""
    from app.feeds.schemas import EventQuery
    from app.feeds.services import list_events

    with _app_context():
        items, total = list_events(EventQuery(status=status or None, limit=_number(limit, "limit")))
        for event in items:
            error = f"\t{event.last_error}" if event.last_error else ""
            print(
                f"{event.event_id}\t{event.topic}/{event.type}\t{event.key}\t{event.status}"
                f"\tattempts {event.attempts}{error}"
            )
    print(f"{len(items)} of {total} event(s)", file=sys.stderr)


def _finish_dead_event(action: str, event_id: str) -> None:
    from app.authz import Actor
    from app.errors import DomainError
    from app.extensions import db
    from app.feeds import actions, services

    with _app_context():
        try:
            getattr(actions, f"{action}_event")(Actor.operator(), event_id)
        except DomainError as error:
            raise Exit(f"error: {error.detail}", code=1) from None
        # Eagerly (no broker) the event is applied by now; with workers it is pending.
        db.session.expire_all()
        print(f"{event_id}: {services.get_event(event_id).status}")


@task(help={"event_id": "the dead event's event_id"})
@one_line_errors
def replay_event(c, event_id):
    """Make a dead event pending again (after fixing its cause)."""
    _finish_dead_event("replay", event_id)


@task(help={"event_id": "the dead event's event_id"})
@one_line_errors
def discard_event(c, event_id):
    """Give up on a dead event so the later events of its key flow again."""
    _finish_dead_event("discard", event_id)


@task
@one_line_errors
def requeue_events(c):
    """Hand every key with waiting events to the workers (what beat does every few seconds)."""
    from app.authz import Actor
    from app.feeds import actions

    with _app_context():
        count = actions.requeue_waiting_keys(Actor.operator())
    print(f"enqueued {count} key(s)")


@task(
    help={
        "name": "the person's name",
        "email": "e-mail address (unique)",
        "title": "academic title, e.g. Dr.",
        "admin": "make the account an active admin at once",
    }
)
@one_line_errors
def create_user(c, name, email, title="", admin=False):
    """Create an account (pending, or active admin); prints its id and refresh token once.

    With an identity provider configured, the person's first sign-in with this
    e-mail address verified by the provider links the account to them.
    """
    from pydantic import ValidationError

    from app.accounts.actions import create_account
    from app.accounts.schemas import SignupRequest
    from app.authz import Actor
    from app.errors import DomainError

    try:
        request = SignupRequest(name=name, email=email, title=title or None)
    except ValidationError as error:
        raise Exit(f"error: {error.errors()[0]['msg']}", code=2) from None
    with _app_context():
        try:
            created = create_account(Actor.operator(), request, admin=admin)
        except DomainError as error:
            hint = (
                f"; `invoke issue-refresh-token {email}` gives its person a new refresh token"
                if error.code == "email_taken"
                else ""
            )
            raise Exit(f"error: {error.detail}{hint}", code=1) from None
        print(f"USER_ID={created.user.id}\nREFRESH_TOKEN={created.refresh_token}")


@task(
    help={
        "email": "the account's e-mail address (an account not linked to a provider yet)",
        "subject": "the person's `sub` at the identity provider",
        "issuer": "the provider's issuer URL (default: OIDC_ISSUER)",
    }
)
@one_line_errors
def link_account(c, email, subject, issuer=""):
    """Bind an existing account to a person at the identity provider (issuer, subject)."""
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    from app.accounts.actions import link_account as link
    from app.accounts.models import User
    from app.authz import Actor
    from app.extensions import db

    with _app_context() as app:
        issuer = issuer or app.extensions["settings"].oidc_issuer
        if not issuer:
            raise Exit("error: give --issuer or set OIDC_ISSUER", code=2)
        users = db.session.scalars(
            select(User).where(User.email_key == email.strip().lower(), User.oidc_subject.is_(None))
        ).all()
        if len(users) != 1:
            raise Exit(f"error: no account waiting to be linked for {email}", code=1)
        try:
            link(Actor.operator(), users[0].id, issuer, subject)
        except IntegrityError:
            raise Exit(f"error: {issuer} {subject} is linked to another account", code=1) from None
    print(f"{email}: linked to {issuer} {subject}")


@task(help={"email": "the pending account's e-mail address"})
@one_line_errors
def accept_user(c, email):
    """Accept a pending account (the user is e-mailed when SMTP is configured)."""
    from sqlalchemy import select

    from app.accounts.actions import accept
    from app.accounts.models import User, UserStatus
    from app.authz import Actor
    from app.errors import DomainError
    from app.extensions import db

    with _app_context():
        users = db.session.scalars(
            select(User).where(User.email_key == email.strip().lower())
        ).all()
        if len(users) > 1:  # one address, several people: only the undecided ones
            users = [user for user in users if user.status != UserStatus.ACTIVE]
        if len(users) != 1:
            found = "no account" if not users else f"{len(users)} accounts"
            raise Exit(f"error: {found} waiting for acceptance for {email}", code=1)
        try:
            accept(Actor.operator(), users[0].id)
        except DomainError as error:
            raise Exit(f"error: {error.detail}", code=1) from None
    print(f"{email}: active")


@task(help={"account": "the account's id, or an e-mail address naming exactly one account"})
@one_line_errors
def issue_refresh_token(c, account):
    """Print a new refresh token for an account, once; its earlier refresh tokens are revoked."""
    from app.accounts.actions import reissue_refresh_token
    from app.accounts.services import find_account
    from app.authz import Actor

    with _app_context():
        user, refresh_token = reissue_refresh_token(Actor.operator(), find_account(account).id)
        print(f"USER_ID={user.id}\nREFRESH_TOKEN={refresh_token}")


@task
def consume_events(c):
    """Store GHGA's Kafka event topics in the inbox (needs KAFKA_SERVERS); stop with Ctrl-C."""
    from app.config import SettingsError, load_settings
    from app.kafka.consumer import InboxUnavailable
    from app.kafka.consumer import consume_events as consume

    try:
        consume(load_settings())
    except SettingsError as error:
        raise Exit(str(error), code=2) from None
    except InboxUnavailable as error:
        raise Exit(f"error: {error}", code=1) from None
