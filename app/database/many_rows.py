"""Many rows in one `INSERT`, optionally `ON CONFLICT`, the cheap way on PostgreSQL.

SQLAlchemy sends a list of rows as one multi-row `VALUES` ("insertmanyvalues"), but
it processes every parameter of every row in Python first, and renders the
statement page by page: in a feed worker's profile that was a third of its CPU for
a set of 250 keys (ADR 27). On PostgreSQL the rows go through psycopg2's
`execute_values` instead (one `mogrify` per row, in C), each value first through
its column type's bind processor, so types with rules of their own (`UTCDateTime`,
`Uuid`) keep them. On SQLite the same statement is built with SQLAlchemy, with a
`RETURNING`: without one SQLAlchemy 2.1 sends an `ON CONFLICT` statement once per row.
"""

from collections.abc import Sequence

from psycopg2 import sql
from psycopg2.extras import execute_values
from sqlalchemy import Table, text
from sqlalchemy.orm import Session

from app.database import dialect_insert

# As SQLAlchemy's insertmanyvalues pages them: a statement's size stays bounded.
_ROWS_PER_STATEMENT = 1000


def insert_many(
    session: Session,
    table: Table,
    rows: list[dict],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
    where: str | None = None,
    returning: str | None = None,
) -> list:
    """Insert `rows` (dicts with the same columns) in one statement.

    `conflict`: the unique columns of `ON CONFLICT`; with `update`, the columns a
    conflicting row takes from the new one (`DO UPDATE`, only `where` that SQL
    condition holds), else `DO NOTHING`. Returns the `returning` column's values of
    the rows written (in no promised order), or [] without one.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _execute_values(session, table, rows, conflict, update, where, returning)
    statement = dialect_insert(session, table)
    if conflict and update:
        statement = statement.on_conflict_do_update(
            index_elements=list(conflict),
            set_={name: statement.excluded[name] for name in update},
            where=text(where) if where else None,
        )
    elif conflict:
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
    column = table.c[returning] if returning else next(iter(table.primary_key.columns))
    result = session.execute(statement.returning(column), rows)
    return list(result.scalars()) if returning else []


def _column_values(column, rows: list[dict], dialect) -> list:
    """One column's values as the driver takes them. A value repeated from the row
    before (the `updated_at` every row of a set shares) is processed once."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    values = [row[column.name] for row in rows]
    if process is None:
        return values
    processed, last, result = [], object(), None
    for value in values:
        if value is not last:
            last, result = value, None if value is None else process(value)
        processed.append(result)
    return processed


def _execute_values(session, table, rows, conflict, update, where, returning) -> list:
    dialect = session.get_bind().dialect
    columns = list(rows[0])
    by_column = [_column_values(table.c[name], rows, dialect) for name in columns]
    values = list(zip(*by_column, strict=True))
    statement = sql.SQL("INSERT INTO {} ({}) VALUES %s").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    if conflict:
        target = sql.SQL(", ").join(map(sql.Identifier, conflict))
        if update:
            assignments = sql.SQL(", ").join(
                sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name)) for name in update
            )
            statement += sql.SQL(" ON CONFLICT ({}) DO UPDATE SET {}").format(target, assignments)
            if where:
                statement += sql.SQL(" WHERE ") + sql.SQL(where)
        else:
            statement += sql.SQL(" ON CONFLICT ({}) DO NOTHING").format(target)
    if returning:
        statement += sql.SQL(" RETURNING {}").format(sql.Identifier(returning))
    # Rows the session still holds unflushed go first, as `session.execute` would.
    session.flush()
    connection = session.connection().connection.dbapi_connection
    with connection.cursor() as cursor:
        fetched = execute_values(
            cursor, statement, values, page_size=_ROWS_PER_STATEMENT, fetch=bool(returning)
        )
    if not returning:
        return []
    column_type = table.c[returning].type.dialect_impl(dialect)
    process = column_type.result_processor(dialect, None)
    return [process(value) if process else value for (value,) in fetched]
