"""Figures about size: big datasets, many stored work packages, long load."""

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import requests
from nacl.public import PrivateKey
from sqlalchemy import text


def seed_big_dataset(app, files: int = 10_000) -> dict:
    """A dataset with `files` files and a grant; returns what a client needs to package it."""
    import base64

    from app.access.schemas import GrantRequest
    from app.access.services import create_grant
    from app.catalog import services as catalog
    from app.catalog.schemas import DatasetPayload
    from app.credentials.internal_tokens import SECOND_FACTOR_AMR, AuthUser, issue_internal_token
    from app.extensions import db

    # A person's token made after the second factor, as the portal's API tokens are.
    user = AuthUser(
        id=uuid4(), name="Big Data", email="big@example.org", amr=list(SECOND_FACTOR_AMR)
    )
    with app.app_context():
        payload = {
            "accession": "BIG10K", "title": "Big", "stage": "download", "dac_alias": "D",
            "dac_email": "d@example.org",
            "files": [
                {"accession": f"GHGAFBIG{n:07d}", "file_extension": ".bam"} for n in range(files)
            ],
        }  # fmt: skip
        catalog.upsert_dataset(DatasetPayload.model_validate(payload))
        valid_until = datetime.now(UTC) + timedelta(days=30)
        create_grant(
            GrantRequest(user_id=user.id, dataset_id="BIG10K", valid_until=valid_until), "bench"
        )
        db.session.commit()
        token = issue_internal_token(app.extensions["token_keys"], user, timedelta(hours=1))
    public_key = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()
    return {"token": token, "key": public_key}


def package_creation_ms(base_url: str, seeded: dict, rounds: int = 5) -> float:
    """Median time to create a work package for every file of the big dataset."""
    body = {"type": "download", "dataset_id": "BIG10K", "user_public_crypt4gh_key": seeded["key"]}
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    times = []
    for _ in range(rounds + 1):
        started = time.perf_counter()
        response = requests.post(
            f"{base_url}/work-packages", json=body, headers=headers, timeout=60
        )
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 201, response.text
        times.append(elapsed)
    return statistics.median(times[1:])  # the first warms the connection pool


def fill_work_packages(app, total: int) -> None:
    """Top the work package table up to `total` rows, in SQL (fast, no Python objects)."""
    from app.extensions import db

    with app.app_context():
        present = db.session.execute(text("SELECT count(*) FROM work_package")).scalar()
        if present >= total:
            return
        db.session.execute(
            text(
                "INSERT INTO work_package (id, type, user_id, full_user_name, email, "
                "dataset_accession, user_public_crypt4gh_key, token_hash, created, expires) "
                "SELECT md5('wp' || n)::uuid, 'download', md5('u' || n)::uuid, 'Filler', "
                "'f@example.org', 'BENCH1', 'x', md5('t' || n) || md5('h' || n), now(), "
                "now() + interval '30 days' FROM generate_series(:start, :stop) AS n"
            ),
            {"start": present + 1, "stop": total},
        )
        db.session.commit()
        db.session.execute(text("ANALYZE work_package"))
        db.session.commit()


def process_memory_mib(pid: int) -> float:
    """Resident memory of a process and its children (the gunicorn master and workers)."""
    pids = [pid, *_children(pid)]
    total_kib = 0
    for process in pids:
        try:
            with open(f"/proc/{process}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total_kib += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total_kib / 1024


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                if int(stat.read().split(") ", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (FileNotFoundError, IndexError, ValueError):
            continue
    return found
