"""Work order token issuance: the server's rate against the bare crypto in the same run."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from nacl.public import PrivateKey


@dataclass(frozen=True)
class SeededPackage:
    package_id: str
    access_token: str
    accession: str


def seed_download_package(app, files: int = 100) -> SeededPackage:
    """A dataset, its accession maps, a grant and a work package, committed."""
    import base64

    from app.access.schemas import GrantRequest
    from app.access.services import create_grant
    from app.catalog import services as catalog
    from app.catalog.schemas import DatasetPayload
    from app.credentials.internal_tokens import AuthUser
    from app.extensions import db
    from app.work_packages.schemas import CreationRequest
    from app.work_packages.services import create_work_package

    user = AuthUser(id=uuid4(), name="Bench Mark", email="bench@example.org")
    key = PrivateKey.generate()
    with app.app_context():
        payload = {
            "accession": "BENCH1",
            "title": "Benchmark dataset",
            "stage": "download",
            "dac_alias": "DAC",
            "dac_email": "dac@example.org",
            "files": [
                {"accession": f"GHGAFBENCH{n:06d}", "file_extension": ".bam"} for n in range(files)
            ],
        }
        dataset, _ = catalog.upsert_dataset(DatasetPayload.model_validate(payload))
        for file in dataset.files:
            catalog.put_accession_map(file.accession, uuid4())
        create_grant(
            GrantRequest(
                user_id=user.id,
                dataset_id="BENCH1",
                valid_until=datetime.now(UTC) + timedelta(days=30),
            ),
            granted_by="benchmark",
        )
        request = CreationRequest(
            type="download",
            dataset_id="BENCH1",
            user_public_crypt4gh_key=base64.b64encode(bytes(key.public_key)).decode(),
        )
        created = create_work_package(user, request)
        db.session.commit()
        from nacl.public import SealedBox

        token = SealedBox(key).decrypt(base64.b64decode(created.sealed_token)).decode()
        return SeededPackage(str(created.package.id), token, dataset.files[-1].accession)


@dataclass(frozen=True)
class SeededUploadPackage:
    package_id: str
    access_token: str
    box_id: str


def seed_upload_package(app) -> SeededUploadPackage:
    """An upload box, a grant to it and an upload work package, committed."""
    import base64

    from nacl.public import SealedBox

    from app.access.schemas import GrantRequest
    from app.access.services import create_grant
    from app.catalog import services as catalog
    from app.catalog.schemas import UploadBoxPayload
    from app.credentials.internal_tokens import AuthUser
    from app.extensions import db
    from app.work_packages.schemas import CreationRequest
    from app.work_packages.services import create_work_package

    user = AuthUser(id=uuid4(), name="Bench Upload", email="upload@example.org")
    key = PrivateKey.generate()
    box_id = uuid4()
    with app.app_context():
        catalog.upsert_upload_box(
            UploadBoxPayload(
                id=box_id, version=0, state="open", title="Benchmark box",
                file_upload_box_id=uuid4(), storage_alias="local",
            )
        )  # fmt: skip
        create_grant(
            GrantRequest(
                user_id=user.id,
                research_data_upload_box_id=box_id,
                valid_until=datetime.now(UTC) + timedelta(days=30),
            ),
            granted_by="benchmark",
        )
        created = create_work_package(
            user,
            CreationRequest(
                type="upload",
                research_data_upload_box_id=box_id,
                user_public_crypt4gh_key=base64.b64encode(bytes(key.public_key)).decode(),
            ),
        )
        db.session.commit()
        token = SealedBox(key).decrypt(base64.b64decode(created.sealed_token)).decode()
        return SeededUploadPackage(str(created.package.id), token, str(box_id))


def crypto_floor_per_second(app, seconds: float = 1.0, rounds: int = 5) -> float:
    """Sign + seal as fast as one core can, with no HTTP or database: the floor.

    The median of several short rounds, so that a burst of load elsewhere on the
    machine does not set the floor.
    """
    rates = sorted(_sign_and_seal_rate(app, seconds) for _ in range(rounds))
    return rates[len(rates) // 2]


def _sign_and_seal_rate(app, seconds: float) -> float:
    from app.credentials.crypt4gh_keys import seal
    from app.credentials.work_order_tokens import sign_work_order

    keys = app.extensions["token_keys"]
    import base64

    public_key = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()
    claims = {
        "work_type": "download",
        "file_id": str(uuid4()),
        "accession": "GHGAFBENCH000001",
        "user_public_crypt4gh_key": public_key,
    }
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(100):
            seal(sign_work_order(claims, keys), public_key)
        done += 100
    return done / (time.perf_counter() - started)
