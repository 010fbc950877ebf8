"""Server-side prepared statements for the few queries on the token hot path.

psycopg2 does not prepare statements, so PostgreSQL plans every query anew;
for the work package lookup planning costs more than running it (~450 µs
against ~200 µs prepared, measured with `invoke bench`'s database). A
`PreparedQuery` is prepared once per connection and executed by name. On other
databases (SQLite in the embedded default) it runs as an ordinary statement,
which may be spelled differently (`portable`) where PostgreSQL's is not SQLite's.
All paths return the same Python values.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import Connection, Select, Uuid
from sqlalchemy.dialects import postgresql

from app.database import UTCDateTime, db

_NAMED_PARAMETER = re.compile(r"%\((\w+)\)s")


def _uuid(value):
    return value if value is None or isinstance(value, UUID) else UUID(value)


def _utc(value: datetime | None):
    return None if value is None else value.astimezone(UTC)


def _converter(column_type) -> Callable:
    if isinstance(column_type, Uuid):
        return _uuid
    if isinstance(column_type, UTCDateTime):
        return _utc
    return lambda value: value


class PreparedQuery:
    def __init__(self, name: str, statement: Select, portable: Select | None = None):
        self.name = name
        self.statement = statement
        self.portable = portable if portable is not None else statement
        compiled = statement.compile(dialect=postgresql.psycopg2.dialect())
        if "POSTCOMPILE" in str(compiled):
            raise ValueError(f"{name}: IN lists cannot be prepared; spell them as equalities")
        self._defaults = {key: value for key, value in compiled.params.items() if value is not None}
        self._order: list[str] = []
        self.sql = _NAMED_PARAMETER.sub(self._positional, str(compiled))
        self._prepare_sql = f"PREPARE {name} AS {self.sql}"
        self._execute_sql = f"EXECUTE {name} ({', '.join(['%s'] * len(self._order))})"
        self._converters = [_converter(column.type) for column in statement.selected_columns]

    def _positional(self, match: re.Match) -> str:
        if match.group(1) not in self._order:
            self._order.append(match.group(1))
        return f"${self._order.index(match.group(1)) + 1}"

    def first(self, **values) -> tuple | None:
        """The first row, or None, within the session's current transaction."""
        return self.first_on(db.session.connection(), **values)

    def first_on(self, connection: Connection, **values) -> tuple | None:
        """The first row, or None, on a SQLAlchemy connection (of either database)."""
        if connection.dialect.name != "postgresql":
            row = connection.execute(self.portable, values).first()
            return None if row is None else tuple(row)
        # Statements live as long as the DBAPI connection; a reconnect starts afresh.
        dbapi_connection = connection.connection.dbapi_connection
        prepared = connection.connection.info.setdefault("prepared_statements", {})
        known = prepared.setdefault(id(dbapi_connection), set())
        if self.name not in known:
            connection.exec_driver_sql(self._prepare_sql)
            known.add(self.name)
        row = connection.exec_driver_sql(self._execute_sql, self._arguments(values)).first()
        return self._converted(row)

    def first_on_cursor(self, cursor, prepared: set[str], **values) -> tuple | None:
        """The first row, or None, on a bare psycopg2 cursor; `prepared` names what it knows."""
        if self.name not in prepared:
            cursor.execute(self._prepare_sql)
            prepared.add(self.name)
        cursor.execute(self._execute_sql, self._arguments(values))
        return self._converted(cursor.fetchone())

    def _arguments(self, values: dict) -> tuple:
        arguments = {**self._defaults, **values}
        return tuple(_adapt(arguments[key]) for key in self._order)

    def _converted(self, row) -> tuple | None:
        if row is None:
            return None
        return tuple(convert(value) for convert, value in zip(self._converters, row, strict=True))


def _adapt(value):
    return str(value) if isinstance(value, UUID) else value
