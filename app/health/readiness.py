"""Readiness: does each service this one needs answer within a second?

Liveness (`/health`) needs nothing; readiness asks the database and, when one is
set, the Celery broker. Each check runs on a small thread pool and is waited for
at most `TIMEOUT_SECONDS`, so a host that swallows packets cannot hang the probe.
"""

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

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


def failed_checks(checks: dict[str, Callable[[], None]]) -> list[str]:
    """Names of the checks that raised or did not finish within TIMEOUT_SECONDS."""
    running = {name: _checks.submit(check) for name, check in checks.items()}
    failed = []
    for name, future in running.items():
        try:
            future.result(timeout=TIMEOUT_SECONDS)
        except FutureTimeout:
            failed.append(name)
            log.warning("readiness: %s did not answer within %s s", name, TIMEOUT_SECONDS)
        except Exception as error:  # any failure means not ready; the class says enough
            failed.append(name)
            log.warning("readiness: %s failed: %s", name, type(error).__name__)
    return failed
