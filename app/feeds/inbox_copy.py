"""Pending inbox rows stored with PostgreSQL's COPY (ADR 27).

A batch goes into a temporary table with one `COPY … FROM STDIN`, then into the
inbox with `INSERT … SELECT … ON CONFLICT DO NOTHING`, in the batch's order (the
ids, which order a key's events, are drawn in that order). COPY takes the rows as
one block of text: no bind parameter is processed per value, which in the profile
cost the consumer more than PostgreSQL's own work. The temporary table belongs to
the connection and is emptied after every move and at every commit, so a batch never
sees another's rows and a rolled-back batch leaves nothing behind.
"""

import io
import json
from datetime import datetime

from sqlalchemy.orm import Session

_COLUMNS = (
    "event_id, topic, type, key, sequence, payload, status, attempts, received_at, "
    "next_attempt_at, received_from"
)
_COPY = f"COPY inbox_intake (position, {_COLUMNS}) FROM STDIN"
_MOVE = (
    f"INSERT INTO inbox_event ({_COLUMNS}) SELECT {_COLUMNS} FROM inbox_intake "  # noqa: S608 - constants
    "ORDER BY position ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)
# Ingests that share a key take turns (transaction-level advisory locks, in the locks'
# order, so two batches never wait for each other crosswise). Without it a batch
# could draw lower ids than another's and commit after it: a worker would apply the
# later event of a key first. The two-number form, apart from beat's one-number lock.
_FEED_KEY_LOCKS = 1178944836  # "FEED" in ASCII
_TAKE_TURNS = (
    "SELECT pg_advisory_xact_lock(%s, lock) FROM (SELECT DISTINCT "
    "hashtext(topic || chr(31) || key) AS lock FROM inbox_intake ORDER BY lock OFFSET 0) "
    "AS sorted"
)
_CREATE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS inbox_intake (position integer, "
    "event_id varchar(200), topic varchar(200), type varchar(200), key varchar(256), "
    "sequence bigint, payload json, status varchar(16), attempts integer, "
    "received_at timestamptz, next_attempt_at timestamptz, received_from varchar(256)) "
    "ON COMMIT DELETE ROWS"
)
_NULL = "\\N"


def copy_pending(session: Session, rows: list[dict], now: datetime) -> set[str]:
    """Store `pending_row` dicts (in list order); returns the event ids that were new."""
    text = io.StringIO()
    stamp = now.isoformat()
    for position, row in enumerate(rows):
        sequence = row["sequence"]
        fields = (
            str(position),
            _escaped(row["event_id"]),
            _escaped(row["topic"]),
            _escaped(row["type"]),
            _escaped(row["key"]),
            _NULL if sequence is None else str(int(sequence)),
            _escaped(json.dumps(row["payload"])),
            row["status"],
            str(row["attempts"]),
            stamp,
            stamp,
            _escaped(row["received_from"]),
        )
        text.write("\t".join(fields))
        text.write("\n")
    text.seek(0)
    # The session's own connection and transaction: the caller commits or rolls back.
    connection = session.connection().connection.dbapi_connection
    with connection.cursor() as cursor:
        cursor.execute(_CREATE)
        cursor.copy_expert(_COPY, text)
        cursor.execute(_TAKE_TURNS, (_FEED_KEY_LOCKS,))
        cursor.execute(
            "INSERT INTO feed_key (topic, key, updated_at) "
            "SELECT DISTINCT topic, key, %s FROM inbox_intake ON CONFLICT DO NOTHING",
            (now,),
        )
        cursor.execute(_MOVE)
        stored = {event_id for (event_id,) in cursor.fetchall()}
        # Emptied now, not only at the commit: a second batch in the same transaction
        # must not see this one's rows. DELETE, not TRUNCATE: a TRUNCATE gives the table
        # new storage, a catalog write per batch.
        cursor.execute("DELETE FROM inbox_intake")
    return stored


def _escaped(value: str) -> str:
    """COPY's text format: a backslash, tab, newline or carriage return is escaped (four
    `replace` calls cost a fifth of one `translate`, most values having none)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )
