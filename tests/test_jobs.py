"""Jobs, targets, maintenance mode and importable datasets."""

import json
import threading
import time
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from app.catalog.models import Dataset
from app.jobs import services
from app.jobs.models import Job, JobStatus
from app.jobs.schemas import JobRequest
from tests.support.factories import ApplicationKeyFactory, create_dataset, dataset_payload, grant


@pytest.fixture
def input_dir(app):
    folder = app.instance_path + "/input"
    from pathlib import Path

    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    yield path
    for manifest in path.glob("*"):
        manifest.unlink()


@pytest.fixture
def jobs_key(db):
    return {"Workflow-API-Key": ApplicationKeyFactory(permissions=("JOBS_ADMIN",)).key}


def write_manifest(folder, name, **changes):
    (folder / f"{name}.json").write_text(json.dumps(dataset_payload(name, 2) | changes))


def post_jobs(client, key, *items):
    return client.post("/jobs", json={"jobs": list(items)}, headers=key)


def test_add_job_imports_a_manifest_that_can_then_be_packaged(
    client, db, app, input_dir, jobs_key, researcher
):
    write_manifest(input_dir, "DS7")

    results = post_jobs(client, jobs_key, {"operation": "ADD", "target": "DS7"}).json

    assert results[0]["status"] == "CREATED"
    job = client.get(f"/jobs/{results[0]['job_id']}", headers=jobs_key).json
    assert job["status"] == "completed"
    assert [entry["message"] for entry in job["log"]][-1] == "completed"
    grant(researcher.id, dataset="DS7")
    package = client.post(
        "/work-packages",
        json={
            "type": "download",
            "dataset_id": "DS7",
            "user_public_crypt4gh_key": researcher.public_key,
        },
        headers=researcher.headers(),
    )
    assert package.status_code == 201


def test_remove_job_stops_new_work_order_tokens(client, db, jobs_key, researcher):
    from app.catalog.services import put_accession_map

    create_dataset("DS8", files=1)
    grant(researcher.id, dataset="DS8")
    created = client.post(
        "/work-packages",
        json={
            "type": "download",
            "dataset_id": "DS8",
            "user_public_crypt4gh_key": researcher.public_key,
        },
        headers=researcher.headers(),
    ).json
    put_accession_map("GHGAFDS80000", uuid4())
    db.session.commit()

    post_jobs(client, jobs_key, {"operation": "REMOVE", "target": "DS8"})

    wpat = {"Authorization": f"Bearer {researcher.open_sealed(created['token'])}"}
    response = client.post(
        f"/work-packages/{created['id']}/files/GHGAFDS80000/work-order-tokens", headers=wpat
    )
    assert response.status_code == 403
    assert db.session.get(Dataset, "DS8") is None


def test_items_fail_with_their_reason(client, db, input_dir, jobs_key):
    write_manifest(input_dir, "BAD", title="")
    write_manifest(input_dir, "OTHER", accession="NOT_OTHER")

    results = post_jobs(
        client,
        jobs_key,
        {"operation": "ADD", "target": "MISSING"},
        {"operation": "ADD", "target": "BAD"},
        {"operation": "ADD", "target": "OTHER"},
        {"operation": "REMOVE", "target": "NOPE"},
    ).json

    assert [r["status"] for r in results] == ["FAILED"] * 4
    assert "No importable dataset MISSING" in results[0]["msg"]
    assert "invalid" in results[1]["msg"]
    assert "describes NOT_OTHER" in results[2]["msg"]
    assert "Dataset NOPE not found" in results[3]["msg"]


def test_two_concurrent_creations_for_one_target_yield_one_active_job(app, db, input_dir):
    write_manifest(input_dir, "DS9")
    barrier = threading.Barrier(2)
    outcomes = []

    def create():
        with app.app_context():
            barrier.wait()
            results, _ = services.create_jobs([JobRequest(operation="ADD", target="DS9")], "test")
            db.session.commit()
            outcomes.append(results[0])

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(o.status for o in outcomes) == ["CREATED", "FAILED"]
    assert "already has an active job" in next(o.msg for o in outcomes if o.status == "FAILED")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1


def test_paused_mode_refuses_jobs_and_holds_queued_ones(client, app, db, input_dir, jobs_key):
    write_manifest(input_dir, "DS10")
    _, created = services.create_jobs([JobRequest(operation="ADD", target="DS10")], "test")
    db.session.commit()

    paused = client.post(
        "/maintenance-status", json={"msg": "upgrading", "paused": True}, headers=jobs_key
    )
    refused = post_jobs(client, jobs_key, {"operation": "ADD", "target": "DS10"}).json
    app.extensions["celery"].tasks["jobs.run"].delay(str(created[0])).get()
    held = client.get(f"/jobs/{created[0]}", headers=jobs_key).json["status"]
    resumed = client.post(
        "/maintenance-status", json={"msg": "done", "paused": False}, headers=jobs_key
    )

    assert paused.json["paused"] is True
    assert refused[0] == {"job_id": None, "status": "FAILED", "msg": "maintenance: upgrading"}
    assert held == "queued"
    assert resumed.json["paused"] is False
    assert client.get(f"/jobs/{created[0]}", headers=jobs_key).json["status"] == "completed"
    history = client.get("/maintenance-history", headers=jobs_key).json
    assert [(h["msg"], h["paused"]) for h in history] == [("done", False), ("upgrading", True)]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (["cancelled"], 200),
        (["in_progress", "completed"], 200),
        (["completed"], 409),
        (["in_progress", "queued"], 409),
        (["cancelled", "in_progress"], 409),
    ],
)
def test_the_transition_table(client, db, jobs_key, path, status):
    create_dataset("DS11", files=1)
    job = Job(id=uuid4(), operation="REMOVE", target="DS11", status="queued", created_by="t",
              parameters={}, description="")  # fmt: skip
    db.session.add(job)
    db.session.commit()

    for step in path:
        response = client.put(
            f"/jobs/{job.id}", json={"status": step, "log": f"to {step}"}, headers=jobs_key
        )

    assert response.status_code == status
    if status == 409:
        assert response.json["code"] == "invalid_transition"


def test_filters_combine(client, db, jobs_key):
    for target, operation, state in [
        ("A", "ADD", "completed"), ("B", "ADD", "failed"), ("C", "REMOVE", "completed"),
        ("D", "REMOVE", "queued"), ("E", "SWEEP", "completed"),
    ]:  # fmt: skip
        db.session.add(Job(id=uuid4(), operation=operation, target=target, status=state,
                           created_by="t", parameters={}, description=""))  # fmt: skip
        db.session.commit()
        time.sleep(0.01)

    def targets(query):
        return [j["target"] for j in client.get(f"/jobs?{query}", headers=jobs_key).json]

    assert targets("operation=ADD,REMOVE") == ["A", "B", "C", "D"]
    assert targets("operation=ADD,REMOVE&ignoreCompleted=true") == ["B", "D"]
    assert targets("status=completed&operation=REMOVE,SWEEP") == ["C", "E"]
    assert client.get("/jobs?operation=EXPLODE", headers=jobs_key).status_code == 422
    assert targets("skip=1&limit=2") == ["B", "C"]
    assert client.get("/jobs?limit=1001", headers=jobs_key).status_code == 422
    latest = client.get("/targets", headers=jobs_key).json
    assert [t["name"] for t in latest] == ["A", "B", "C", "D", "E"]
    assert [j["target"] for j in client.get("/targets/C/jobs", headers=jobs_key).json] == ["C"]
    paged = client.get("/targets?skip=1&limit=2", headers=jobs_key).json
    assert [t["name"] for t in paged] == ["B", "C"]
    assert client.get("/targets/C/jobs?limit=1001", headers=jobs_key).status_code == 422


def test_importable_datasets_list_validity_and_refuse_traversal(client, db, input_dir, jobs_key):
    write_manifest(input_dir, "GOOD")
    (input_dir / "BROKEN.json").write_text("{not json")
    outside = input_dir.parent / "secret.json"
    outside.write_text("{}")
    (input_dir / "LINK.json").symlink_to(outside)

    listing = client.get("/importable-datasets", headers=jobs_key).json
    traversal = client.delete("/importable-datasets/..%2Fsecret", headers=jobs_key)
    via_link = client.delete("/importable-datasets/LINK", headers=jobs_key)
    deleted = client.delete("/importable-datasets/GOOD", headers=jobs_key)

    assert [(d["name"], d["valid"]) for d in listing] == [("BROKEN", False), ("GOOD", True)]
    assert traversal.status_code in (404, 422)
    assert via_link.status_code == 404
    assert outside.exists()
    assert deleted.status_code == 204 and not (input_dir / "GOOD.json").exists()


@pytest.mark.parametrize(("permissions", "status"), [(("DATA_STEWARD",), 403), (None, 401)])
def test_creating_jobs_needs_jobs_admin(client, db, permissions, status):
    headers = {}
    if permissions:
        headers = {"Workflow-API-Key": ApplicationKeyFactory(permissions=permissions).key}

    response = post_jobs(client, headers, {"operation": "REMOVE", "target": "X"})

    assert response.status_code == status


def test_upload_verification_and_sweeps_are_recorded_as_jobs(client, db, jobs_key):
    from app.tasks.work_packages import sweep_expired_work_packages

    sweep_expired_work_packages.delay().get()

    sweeps = client.get("/jobs?operation=SWEEP", headers=jobs_key).json
    assert [(j["target"], j["status"]) for j in sweeps] == [("work-packages", "completed")]
    assert JobStatus(sweeps[0]["status"]) is JobStatus.COMPLETED
