"""Readiness: does each service this one needs answer within a second?

Liveness (`/health`) needs nothing; readiness asks the database (and whether its
schema has reached the code's migrations) and, when one is set, the Celery broker.
Each check runs on a small thread pool and is waited for at most `TIMEOUT_SECONDS`,
so a host that swallows packets cannot hang the probe.
"""

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from alembic.script import ScriptDirectory
from kombu import Connection
from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 1.0
# Checks of a dependency that hangs keep their thread until their own timeouts end;
# a few threads bound that, and a check queued behind them simply times out.
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readiness")


def database_check(engine: Engine) -> Callable[[], None]:
    def check() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return check


class SchemaBehind(Exception):
    """The database is at a migration older than the code's newest."""


def schema_check(engine: Engine, migrations: Path) -> Callable[[], None]:
    """Not ready while the database is at an older revision than the code's head.

    A revision the code does not know is a newer version's: migrations only expand
    while both versions serve (ADR 31), so this version keeps serving on it.
    """
    script = ScriptDirectory(str(migrations))
    heads = set(script.get_heads())
    known = {revision.revision for revision in script.walk_revisions()}

    def check() -> None:
        with engine.connect() as connection:
            current = set(
                connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            )
        if heads <= current or (current and not current & known):
            return
        raise SchemaBehind(
            f"schema is at {', '.join(sorted(current)) or 'no revision'}, the code needs "
            f"{', '.join(sorted(heads))} (run `flask db upgrade`)"
        )

    return check


def broker_check(broker_url: str) -> Callable[[], None]:
    def check() -> None:
        options = {"socket_timeout": TIMEOUT_SECONDS, "socket_connect_timeout": TIMEOUT_SECONDS}
        with Connection(
            broker_url, connect_timeout=TIMEOUT_SECONDS, transport_options=options
        ) as connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=TIMEOUT_SECONDS
            )

    return check


def failed_checks(checks: dict[str, Callable[[], None]]) -> dict[str, str]:
    """The checks that raised or did not finish within TIMEOUT_SECONDS, each with why."""
    running = {name: _checks.submit(check) for name, check in checks.items()}
    failed = {}
    for name, future in running.items():
        try:
            future.result(timeout=TIMEOUT_SECONDS)
        except FutureTimeout:
            failed[name] = f"{name} did not answer within {TIMEOUT_SECONDS:g} s"
            log.warning("readiness: %s did not answer within %s s", name, TIMEOUT_SECONDS)
        except SchemaBehind as behind:
            failed[name] = str(behind)
            log.warning("readiness: %s", behind)
        except Exception as error:  # any failure means not ready; the class says enough
            failed[name] = f"{name} did not answer within {TIMEOUT_SECONDS:g} s"
            log.warning("readiness: %s failed: %s", name, type(error).__name__)
    return failed
