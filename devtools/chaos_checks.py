"""The checks at the end of `invoke chaos`, with every process up again: events,
revocation, uploads, and the failed journeys judged against the kill windows."""

import itertools
import json
import time
from collections import defaultdict
from contextlib import suppress

from devtools.chaos_load import Tally

DRAIN_SECONDS = 180


def wait_until(condition, seconds: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        with suppress(Exception):
            if condition():
                return time.monotonic() - started
        time.sleep(0.2)
    raise RuntimeError(f"{what} not within {seconds:g} s")


def in_database(app, work, attempts: int = 30):
    """`work()` in an app context, again on a fresh pool while the database restarts."""
    from sqlalchemy.exc import OperationalError

    from app.extensions import db

    for attempt in range(attempts):
        with app.app_context():
            try:
                return work()
            except OperationalError:
                if attempt == attempts - 1:
                    raise
                db.session.rollback()
                db.engine.dispose()
            finally:
                db.session.remove()
        time.sleep(1)
    return None


def drain_events(app, sent, seconds: float) -> float:
    from sqlalchemy import text

    from app.extensions import db

    expected = sum(len(versions) for kind in sent.values() for versions in kind.values())
    query = text(
        "SELECT count(*) FROM inbox_event WHERE status = 'applied' AND "
        "(key LIKE 'CHAOSH%' OR key LIKE 'CHAOSK%')"
    )

    def applied() -> bool:
        return in_database(app, lambda: db.session.execute(query).scalar()) >= expected

    with suppress(RuntimeError):
        return round(wait_until(applied, seconds, "every event applied"), 1)
    return -1.0


def check_events(app, sent) -> dict:
    """Exactly once, in order per key, each dataset at its last version."""
    from sqlalchemy import text

    from app.extensions import db

    problems = []
    rows = in_database(
        app,
        lambda: db.session.execute(
            text(
                "SELECT key, event_id, status, payload, finished_at, id FROM inbox_event "
                "WHERE key LIKE 'CHAOSH%' OR key LIKE 'CHAOSK%'"
            )
        ).all(),
    )
    titles = dict(
        in_database(
            app,
            lambda: db.session.execute(
                text("SELECT accession, title FROM dataset WHERE accession LIKE 'CHAOS%'")
            ).all(),
        )
    )
    by_key = defaultdict(list)
    for key, event_id, status, payload, finished_at, row_id in rows:
        payload = json.loads(payload) if isinstance(payload, str) else payload
        version = int(payload["title"].split()[-1])
        by_key[key].append((version, status, finished_at, event_id, row_id))
    accepted = 0
    for kind in sent.values():
        for key, versions in kind.items():
            accepted += len(versions)
            stored = by_key.get(key, [])
            if sorted(v for v, *_ in stored) != sorted(set(versions)):
                problems.append(f"{key}: stored versions differ from the accepted ones")
            not_applied = [v for v, status, *_ in stored if status != "applied"]
            if not_applied:
                problems.append(f"{key}: versions {not_applied[:5]} not applied")
            finished = [f for _, _, f, *_ in sorted(stored)]
            if any(a and b and a > b for a, b in itertools.pairwise(finished)):
                problems.append(f"{key}: applied out of order")
            if versions and titles.get(key) != f"version {max(versions)}":
                problems.append(f"{key}: dataset at {titles.get(key)!r}, last was {max(versions)}")
    return {
        "accepted": accepted,
        "stored": len(rows),
        "applied": sum(1 for row in rows if row[2] == "applied"),
        "problems": problems[:20],
        "ok": not problems and accepted > 0,
    }


def check_revocation(tally: Tally, revoked_after: float | None, started: float) -> dict:
    after = [
        at
        for at in tally.after_revocation
        if revoked_after is not None and at - started > revoked_after
    ]
    return {
        "revoked_at_second": round(revoked_after or -1, 1),
        "issued_after_revocation": len(after),
    }


def overlaps(started: float, ended: float, windows: list[tuple[float, float]]) -> bool:
    """Whether [started, ended] (seconds into the run) meets a kill window."""
    return any(start <= ended and started <= end for start, end in windows)


def judge_runs(tally: Tally, windows: list[tuple[float, float]], started: float) -> dict:
    """Failed journeys split by the kill windows: inside one they were retryable; outside
    every one they are findings. A bounce to sign-in is judged the same way."""
    retried, findings = defaultdict(int), []
    for kind, begun, ended, why in tally.failed_runs:
        if overlaps(begun - started, ended - started, windows):
            retried[kind] += 1
        else:
            findings.append(f"{kind} at {begun - started:.0f} s: {why}")
    bounces = [
        f"{why} at {at - started:.0f} s"
        for why, at in tally.bounces
        if not overlaps(at - started, at - started, windows)
    ]
    return {"retried": dict(retried), "findings": findings[:20], "bounces": bounces[:20]}


def check_uploads(app, tally: Tally, file_box_id, seconds: float = DRAIN_SECONDS) -> dict:
    """Every upload the connector reported is `completed`, and its object is in S3 with
    the stored size. Verification is a worker's task: wait for it like for the events."""
    from sqlalchemy import select

    from app.extensions import db
    from app.transfer.models import FileUpload, UploadState

    accepted = dict(tally.accepted_uploads)

    def states() -> dict[str, tuple]:
        rows = db.session.execute(
            select(FileUpload.alias, FileUpload.id, FileUpload.state).where(
                FileUpload.box_id == file_box_id, FileUpload.alias.in_(list(accepted))
            )
        ).all()
        return {alias: (file_id, state) for alias, file_id, state in rows}

    def all_completed() -> bool:
        found = in_database(app, states)
        return all(found.get(a, (None, ""))[1] == UploadState.COMPLETED for a in accepted)

    waited = -1.0
    with suppress(RuntimeError):
        waited = round(wait_until(all_completed, seconds, "every upload verified"), 1)
    found, problems, verified = in_database(app, states), [], 0
    for alias, size in accepted.items():
        file_id, state = found.get(alias, (None, "missing"))
        problem = (
            f"{alias}: {state}"
            if state != UploadState.COMPLETED
            else _stored_object_problem(app, alias, file_id, size)
        )
        if problem:
            problems.append(problem)
        else:
            verified += 1
    return {
        "accepted": len(accepted),
        "verified": verified,
        "verified_seconds": waited,
        "problems": problems[:20],
        "ok": not problems and len(accepted) > 0,
    }


def _stored_object_problem(app, alias: str, file_id, size: int) -> str | None:
    """What is wrong with a completed upload's object in S3 (None: nothing)."""
    from botocore.exceptions import ClientError
    from sqlalchemy import select

    from app.extensions import db
    from app.transfer.models import StoredFile

    query = select(StoredFile.object_key, StoredFile.content_size, StoredFile.decrypted_size)
    row = in_database(app, lambda: db.session.execute(query.filter_by(file_id=file_id)).first())
    if row is None:
        return f"{alias}: completed without a stored file"
    object_key, content_size, decrypted_size = row
    store = app.extensions["object_store"]
    try:
        head = store.client.head_object(Bucket=store.bucket, Key=f"objects/{object_key}")
    except ClientError as error:
        return f"{alias}: no object in S3 ({error.response['Error']['Code']})"
    if head["ContentLength"] != content_size:
        return f"{alias}: {head['ContentLength']} bytes in S3, {content_size} stored"
    if decrypted_size != size:
        return f"{alias}: {decrypted_size} bytes decrypted, {size} uploaded"
    return None
