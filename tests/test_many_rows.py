"""`insert_many`: the same rows and answers on PostgreSQL (psycopg2's execute_values)
and on SQLite (SQLAlchemy), column types' rules included."""

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from app.catalog.models import Dataset, DatasetFile, UploadBox
from app.database import Base
from app.database.many_rows import insert_many
from app.feeds.models import FeedKey

BERLIN_WINTER = timezone(timedelta(hours=1))


@pytest.fixture(params=["postgresql", "sqlite"])
def session(request, tmp_path):
    if request.param == "postgresql":
        database = request.getfixturevalue("db")
        yield database.session
        return
    engine = create_engine(f"sqlite:///{tmp_path / 'many.sqlite'}")
    Base.metadata.create_all(engine)
    with Session(engine) as sqlite_session:
        yield sqlite_session
    engine.dispose()


def box(box_id: UUID, version: int, title: str) -> dict:
    return {
        "id": box_id,
        "file_upload_box_id": uuid4(),
        "version": version,
        "state": "open",
        "title": title,
        "description": None,
        "storage_alias": "test",
        "max_size": 10**12,
        "updated_at": datetime.now(UTC),
    }


def upsert_boxes(session, rows: list[dict]) -> list:
    return insert_many(
        session,
        UploadBox.__table__,
        rows,
        conflict=["id"],
        update=["version", "title"],  # the file upload box id stays the first one's
        where="upload_box.version <= excluded.version",
        returning="id",
    )


def test_an_upsert_with_a_guard_writes_only_newer_rows_and_returns_their_ids(session):
    first, second = uuid4(), uuid4()
    written = upsert_boxes(session, [box(first, 2, "first v2"), box(second, 1, "second v1")])
    assert sorted(written) == sorted([first, second])
    assert all(isinstance(box_id, UUID) for box_id in written)

    written = upsert_boxes(session, [box(first, 1, "first v1"), box(second, 3, "second v3")])
    session.commit()

    assert written == [second]  # the older version of `first` was left alone
    titles = dict(session.execute(select(UploadBox.id, UploadBox.title)).all())
    assert titles == {first: "first v2", second: "second v3"}


def test_do_nothing_on_a_conflict_returns_only_the_new_rows(session):
    now = datetime.now(UTC)
    insert_many(session, FeedKey.__table__, [{"topic": "t", "key": "a", "updated_at": now}])
    written = insert_many(
        session,
        FeedKey.__table__,
        [{"topic": "t", "key": key, "updated_at": now} for key in ("a", "b")],
        conflict=["topic", "key"],
        returning="key",
    )
    session.commit()
    assert written == ["b"]
    assert session.scalars(select(FeedKey.key).order_by(FeedKey.key)).all() == ["a", "b"]


def test_a_column_type_keeps_its_rules(session):
    noon_in_berlin = datetime(2026, 12, 7, 12, 0, tzinfo=BERLIN_WINTER)
    rows = [
        {"topic": "t", "key": str(n), "last_sequence": n, "updated_at": noon_in_berlin}
        for n in range(3)
    ]
    insert_many(session, FeedKey.__table__, rows)
    session.commit()
    stored = session.scalars(select(FeedKey.updated_at)).all()
    assert stored == [datetime(2026, 12, 7, 11, 0, tzinfo=UTC)] * 3

    # SQLAlchemy wraps the type's ValueError in a StatementError.
    with pytest.raises((ValueError, StatementError), match="naive datetimes"):
        insert_many(
            session,
            FeedKey.__table__,
            [{"topic": "t", "key": "naive", "updated_at": datetime(2026, 12, 7, 12, 0)}],
        )


def test_rows_the_session_holds_unflushed_are_written_first(session):
    session.add(
        Dataset(
            accession="GHGAD1",
            title="t",
            description=None,
            stage="download",
            dac_alias="DAC",
            dac_email="dac@example.org",
            updated_at=datetime.now(UTC),
        )
    )
    insert_many(
        session,
        DatasetFile.__table__,
        [
            {
                "dataset_accession": "GHGAD1",
                "accession": "GHGAF1",
                "position": 0,
                "extension": ".bam",
                "description": None,
            }
        ],
    )
    session.commit()
    assert session.scalars(select(DatasetFile.dataset_accession)).all() == ["GHGAD1"]
