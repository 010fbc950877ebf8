"""A database connection of each thread of this process, for the token hot path.

The SQLAlchemy Session spends a BEGIN and a ROLLBACK round trip on every request
and ~30 µs of its own machinery on every statement. The token path runs one
read-only statement, so on PostgreSQL each thread keeps a bare psycopg2
connection in autocommit mode and runs the prepared statement on it: one round
trip per token (docs/adr/0016). On SQLite (the embedded default) it borrows a
pooled SQLAlchemy connection instead.
"""

import os
import threading

import psycopg2
from sqlalchemy.engine import Engine

from app.database.prepared import PreparedQuery

#: The connection is gone (dropped by the server, a restart, a network fault).
CONNECTION_LOST = (psycopg2.OperationalError, psycopg2.InterfaceError)


class _Connection:
    def __init__(self, engine: Engine):
        arguments, options = engine.dialect.create_connect_args(engine.url)
        self.dbapi_connection = engine.dialect.connect(*arguments, **options)
        self.dbapi_connection.autocommit = True
        self.cursor = self.dbapi_connection.cursor()
        self.prepared: set[str] = set()
        self.pid = os.getpid()

    def close(self) -> None:
        self.dbapi_connection.close()


class DedicatedConnections:
    """Runs prepared queries on this thread's own connection."""

    def __init__(self, engine: Engine, tracer=None):
        self._engine = engine
        self._postgresql = engine.dialect.name == "postgresql"
        self._local = threading.local()
        self._tracer = tracer
        self._span_attributes = {
            "db.system": engine.dialect.name,
            "db.name": engine.url.database or "",
        }

    def first(self, query: PreparedQuery, **values) -> tuple | None:
        """The query's first row, or None; raises what the driver raises."""
        if self._tracer is None or not self._postgresql:
            # (SQLite goes through the engine, which the SQLAlchemy instrumentation traces.)
            return self._first(query, values)
        from opentelemetry.trace import SpanKind

        with self._tracer.start_as_current_span(
            f"SELECT {self._span_attributes['db.name']}",
            kind=SpanKind.CLIENT,
            attributes={**self._span_attributes, "db.statement": query.sql},
        ):
            return self._first(query, values)

    def _first(self, query: PreparedQuery, values: dict) -> tuple | None:
        if not self._postgresql:
            with self._engine.connect() as connection:
                return query.first_on(connection, **values)
        connection = self._connection()
        try:
            return query.first_on_cursor(connection.cursor, connection.prepared, **values)
        except CONNECTION_LOST:
            # The statement only reads, so it is safe to try once more on a new
            # connection: a connection the server dropped while idle costs nothing.
            self._discard(connection)
            connection = self._connection()
            try:
                return query.first_on_cursor(connection.cursor, connection.prepared, **values)
            except psycopg2.Error:
                self._discard(connection)
                raise
        except psycopg2.Error:
            # Start afresh next time rather than guess which state the error left.
            self._discard(connection)
            raise

    def _connection(self) -> _Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None or connection.pid != os.getpid():
            # A forked child never uses its parent's connection.
            connection = self._local.connection = _Connection(self._engine)
        return connection

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        self._local.connection = None
