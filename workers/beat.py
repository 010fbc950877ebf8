"""Beat as two replicas: only the one holding a PostgreSQL lock sends the sweeps.

Every beat process runs this scheduler (`beat_scheduler` in workers/main.py). It
takes a session-level advisory lock on a connection of its own; the others ask for
it again every `WAIT_SECONDS` and send nothing meanwhile. The lock goes with the
connection: a holder killed, cut off or restarted with the database frees it, and a
waiting replica takes over within seconds. Before each tick the holder confirms it
still holds the lock, so after a database restart at most one of them sends.

The schedule is kept in memory (nothing written next to the process: the root
filesystem may be read-only); a beat that takes over starts its intervals afresh,
and a sweep run twice around a takeover is harmless (every sweep is idempotent).
With a database other than PostgreSQL (the embedded SQLite default) there is no
lock: run one beat.
"""

import contextlib
import logging

from celery.beat import Scheduler
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

#: pg_advisory_lock key of beat ("wps-beat" in ASCII, as a bigint).
LOCK_KEY = int.from_bytes(b"wps-beat", "big") & 0x7FFF_FFFF_FFFF_FFFF
#: Seconds between a waiting replica's attempts, and the longest a holder sleeps.
WAIT_SECONDS = 2.0

_HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = :key"
)


class BeatLock:
    """The advisory lock on a connection kept for it (never one of the pool's)."""

    def __init__(self, database_uri: str):
        self.engine = create_engine(
            database_uri,
            poolclass=NullPool,
            connect_args={
                "connect_timeout": 5,
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 2,
                "application_name": "wps-beat",
            },
        )
        self.connection = None

    def held(self) -> bool:
        """Take the lock if free, confirm it if ours; False while another beat has it."""
        try:
            if self.connection is None:
                self.connection = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
                taken = self.connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
                ).scalar()
                if not taken:
                    self.release()
                    return False
                log.info("beat: holding the schedule lock; sending the sweeps")
                return True
            return bool(self.connection.execute(_HELD, {"key": LOCK_KEY}).scalar())
        except DBAPIError as error:
            log.warning("beat: database unreachable (%s); sending nothing", type(error).__name__)
            self.release()
            return False

    def release(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(DBAPIError):
                self.connection.close()
            self.connection = None


class LockedScheduler(Scheduler):
    """Celery's in-memory scheduler, ticking only while this beat holds the lock."""

    def __init__(self, *args, **kwargs):
        from workers.main import flask_app

        uri = flask_app.config["SQLALCHEMY_DATABASE_URI"]
        self.lock = BeatLock(uri) if uri.startswith("postgresql") else None
        self._waiting = False
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs) -> float:
        if self.lock is not None and not self.lock.held():
            if not self._waiting:
                log.info("beat: another beat holds the schedule lock; waiting")
            self._waiting = True
            return WAIT_SECONDS
        self._waiting = False
        return min(super().tick(*args, **kwargs), WAIT_SECONDS)

    def close(self) -> None:
        super().close()
        if self.lock is not None:
            self.lock.release()
