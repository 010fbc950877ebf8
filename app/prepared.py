"""Server-side prepared statements for the few queries on the token hot path.

psycopg2 does not prepare statements, so PostgreSQL plans every query anew;
for the work package lookup planning costs more than running it (~450 µs
against ~200 µs prepared, measured with `invoke bench`'s database). A
`PreparedQuery` is prepared once per connection and executed by name. On other
databases (SQLite in the embedded default) it runs as an ordinary statement.
Both paths return the same Python values.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import Select, Uuid
from sqlalchemy.dialects import postgresql

from app.database import UTCDateTime
from app.extensions import db

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
    def __init__(self, name: str, statement: Select):
        self.name = name
        self.statement = statement
        compiled = statement.compile(dialect=postgresql.psycopg2.dialect())
        if "POSTCOMPILE" in str(compiled):
            raise ValueError(f"{name}: IN lists cannot be prepared; spell them as equalities")
        self._defaults = {key: value for key, value in compiled.params.items() if value is not None}
        self._order: list[str] = []
        self._prepare_sql = f"PREPARE {name} AS " + _NAMED_PARAMETER.sub(
            self._positional, str(compiled)
        )
        self._execute_sql = f"EXECUTE {name} ({', '.join(['%s'] * len(self._order))})"
        self._converters = [_converter(column.type) for column in statement.selected_columns]

    def _positional(self, match: re.Match) -> str:
        if match.group(1) not in self._order:
            self._order.append(match.group(1))
        return f"${self._order.index(match.group(1)) + 1}"

    def first(self, **values) -> tuple | None:
        """The first row, or None, within the session's current transaction."""
        connection = db.session.connection()
        if connection.dialect.name != "postgresql":
            row = connection.execute(self.statement, values).first()
            return None if row is None else tuple(row)
        # Statements live as long as the DBAPI connection; a reconnect starts afresh.
        dbapi_connection = connection.connection.dbapi_connection
        prepared = connection.connection.info.setdefault("prepared_statements", {})
        known = prepared.setdefault(id(dbapi_connection), set())
        if self.name not in known:
            connection.exec_driver_sql(self._prepare_sql)
            known.add(self.name)
        arguments = {**self._defaults, **values}
        row = connection.exec_driver_sql(
            self._execute_sql, tuple(_adapt(arguments[key]) for key in self._order)
        ).first()
        if row is None:
            return None
        return tuple(convert(value) for convert, value in zip(self._converters, row, strict=True))


def _adapt(value):
    return str(value) if isinstance(value, UUID) else value
