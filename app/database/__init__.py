"""The database room: the declarative base every model derives from and the session (`db`);
prepared statements and dedicated connections of the hot paths live beside it."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, func, select
from sqlalchemy.orm import DeclarativeBase

from roles.columns import UTCDateTime, utc_now

# Deterministic constraint names keep Alembic migrations identical on SQLite and
# PostgreSQL and let later migrations drop constraints by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Responses are serialised after the commit; expiring would reload every object.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})

__all__ = ["Base", "UTCDateTime", "db", "dialect_insert", "utc_now"]


def render_migration_item(type_, obj, autogen_context):
    """Write our column types into migrations as the plain types they store.

    Migrations then do not import application code that may change later.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def dialect_insert(session, model):
    """The session's database's INSERT, which knows `ON CONFLICT` (PostgreSQL, SQLite)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two supported databases
        raise NotImplementedError(dialect)
    return insert(model)


def insert_ignoring_conflicts(session, model, values: dict, conflict_columns: list[str]):
    """INSERT ... ON CONFLICT DO NOTHING on PostgreSQL and SQLite.

    Returns the inserted row's primary key, or None when a row with the same
    `conflict_columns` already existed. Atomic under concurrency, unlike a
    select-then-insert.
    """
    primary_key = model.__table__.primary_key.columns.values()
    statement = (
        dialect_insert(session, model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict_columns)
        .returning(*primary_key)
    )
    return session.execute(statement).first()


def fetch_page(session, statement, skip: int, limit: int) -> tuple[list, int]:
    """One page of an ordered SELECT, and how many rows the whole SELECT has."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    return list(session.scalars(statement.offset(skip).limit(limit))), total
