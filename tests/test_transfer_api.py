"""Download and upload controller endpoints and the local backend's signed URLs."""

import base64
import hashlib
import io
import time
from uuid import uuid4

import jwt
import pytest
from nacl.public import PrivateKey
from sqlalchemy import select

from app import create_app
from app.credentials.work_order_tokens import sign_work_order
from app.transfer.models import FileUpload
from app.transfer.services import import_plaintext
from tests.conftest import make_settings
from tests.support.factories import create_upload_box

USER_KEY = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()


def wot(app, **claims) -> dict:
    token = sign_work_order(
        {"user_public_crypt4gh_key": USER_KEY} | claims, app.extensions["token_keys"]
    )
    return {"Authorization": f"Bearer {token}"}


def test_well_known_values_name_absolute_urls_and_the_storage_key(client, app):
    values = client.get("/.well-known/values").json
    base = str(app.extensions["settings"].public_base_url).rstrip("/")

    assert values["wps_api_url"] == base
    assert values["dcs_api_url"] == f"{base}/download"
    assert values["ucs_api_url"] == f"{base}/upload"
    assert values["crypt4gh_public_keys"] == {"local": app.extensions["storage_keys"].public_base64}


@pytest.mark.parametrize("prefix", ["/download", "/upload"])
def test_controller_health(client, prefix):
    assert client.get(f"{prefix}/health").json == {"status": "OK"}


@pytest.fixture
def stored(db, app):
    content = bytes(range(256)) * 1024  # 256 KiB: several Crypt4GH segments
    file_id = uuid4()
    stored = import_plaintext(file_id, iter([content]))
    db.session.commit()
    url = app.extensions["object_store"].download_url(stored.object_key)
    return stored, url.split("127.0.0.1:5000", 1)[1]


def test_signed_url_serves_the_object_and_ranges(client, stored):
    record, url = stored

    whole = client.get(url)
    ranged = client.get(url, headers={"Range": "bytes=10-19"})
    suffix = client.get(url, headers={"Range": "bytes=-5"})

    assert whole.status_code == 200 and len(whole.data) == record.content_size
    assert ranged.status_code == 206
    assert ranged.headers["Content-Range"] == f"bytes 10-19/{record.content_size}"
    assert ranged.data == whole.data[10:20]
    assert suffix.data == whole.data[-5:]


def test_out_of_range_is_416(client, stored):
    record, url = stored

    response = client.get(url, headers={"Range": f"bytes={record.content_size}-"})

    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{record.content_size}"


@pytest.mark.parametrize("tamper", ["signature", "path", "expired", "missing"])
def test_bad_signatures_are_403(client, stored, tamper):
    _, url = stored
    if tamper == "signature":
        url = url[:-3] + ("000" if not url.endswith("000") else "111")
    elif tamper == "path":
        url = url.replace("/objects/", "/objects/0")
    elif tamper == "expired":
        url = url.replace("expires=", "expires=1")
    else:
        url = url.split("?")[0]

    response = client.get(url)

    assert response.status_code in (403, 404)
    if tamper != "path":
        assert response.status_code == 403


@pytest.fixture
def box(db):
    return create_upload_box()


def create_upload(client, app, box, alias="a.bam", **body):
    payload = {
        "alias": alias,
        "decrypted_size": 100,
        "encrypted_size": 252,
        "part_size": 8 * 1024 * 1024,
    } | body
    headers = wot(app, work_type="create", alias=alias, box_id=str(box.file_upload_box_id))
    return client.post(
        f"/upload/boxes/{box.file_upload_box_id}/uploads", json=payload, headers=headers
    )


def test_upload_lifecycle_with_a_part_put_through_the_signed_url(client, app, db, box):
    fub = box.file_upload_box_id
    created = create_upload(client, app, box)
    file_id = created.json["file_id"]
    part_url = client.get(
        f"/upload/boxes/{fub}/uploads/{file_id}/parts/1",
        headers=wot(app, work_type="upload", file_id=file_id, box_id=str(fub)),
    ).json
    content = b"\x00" * 252

    put = client.put(part_url.split("127.0.0.1:5000", 1)[1], data=content)
    listing = client.get(
        f"/upload/boxes/{fub}/uploads", headers=wot(app, work_type="view", box_id=str(fub))
    )

    assert created.status_code == 201
    assert created.json["storage_alias"] == "local"
    assert put.status_code == 200 and put.data == b""
    assert listing.json == {
        "items": [
            {"id": file_id, "alias": "a.bam", "decrypted_size": 100, "encrypted_size": 252,
             "state": "init", "encrypted_parts_md5": None, "encrypted_parts_sha256": None}
        ],
        "total_count": 1,
    }  # fmt: skip
    md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
    wrong = client.patch(
        f"/upload/boxes/{fub}/uploads/{file_id}",
        json={
            "decrypted_sha256": "ab" * 32,
            "encrypted_md5": hashlib.md5(bytes.fromhex(md5), usedforsecurity=False).hexdigest()
            + "-1",
            "encrypted_parts_md5": ["00" * 16],
            "encrypted_parts_sha256": [hashlib.sha256(content).hexdigest()],
        },
        headers=wot(app, work_type="close", file_id=file_id, box_id=str(fub)),
    )
    assert wrong.status_code == 400
    assert wrong.json["exception_id"] == "checksumMismatch"
    assert "MD5" in wrong.json["description"]

    deleted = client.delete(
        f"/upload/boxes/{fub}/uploads/{file_id}",
        headers=wot(app, work_type="delete", file_id=file_id, box_id=str(fub)),
    )
    assert deleted.status_code == 204
    db.session.expire_all()
    assert db.session.scalars(select(FileUpload.state)).one() == "cancelled"


def part_url(client, app, box, file_id, number: int = 1) -> str:
    fub = box.file_upload_box_id
    url = client.get(
        f"/upload/boxes/{fub}/uploads/{file_id}/parts/{number}",
        headers=wot(app, work_type="upload", file_id=file_id, box_id=str(fub)),
    ).json
    return url.split("127.0.0.1:5000", 1)[1]


def test_a_repeated_creation_returns_the_same_upload_until_a_part_arrives(client, app, db, box):
    first = create_upload(client, app, box)
    repeated = create_upload(client, app, box)
    other_sizes = create_upload(client, app, box, encrypted_size=253)
    client.put(part_url(client, app, box, first.json["file_id"]), data=b"x" * 252)
    after_a_part = create_upload(client, app, box)

    assert (first.status_code, repeated.status_code) == (201, 201)
    assert repeated.json == first.json
    assert other_sizes.status_code == 409
    assert other_sizes.json["exception_id"] == "fileUploadAlreadyExists"
    assert after_a_part.status_code == 409
    db.session.expire_all()
    assert db.session.scalars(select(FileUpload.state)).all() == ["init"]


def test_one_live_upload_per_alias_unless_overwritten(client, app, db, box):
    first = create_upload(client, app, box)
    duplicate = create_upload(client, app, box, part_size=1024)
    replaced = create_upload(client, app, box, overwrite=True)

    assert duplicate.status_code == 409
    assert duplicate.json["exception_id"] == "fileUploadAlreadyExists"
    assert replaced.status_code == 201
    db.session.expire_all()
    states = dict(db.session.execute(select(FileUpload.id, FileUpload.state)).all())
    assert states[uuid_of(first)] == "cancelled"
    assert states[uuid_of(replaced)] == "init"


def uuid_of(response):
    from uuid import UUID

    return UUID(response.json["file_id"])


def test_uploads_need_an_open_known_box(client, app, db):
    locked = create_upload_box(state="locked")
    unknown = type("Box", (), {"file_upload_box_id": uuid4()})

    refused = create_upload(client, app, locked)
    missing = create_upload(client, app, unknown)

    assert (refused.status_code, refused.json["exception_id"]) == (409, "boxStateError")
    assert (missing.status_code, missing.json["exception_id"]) == (404, "boxNotFound")


def test_part_size_over_the_limit_is_400(client, app, box):
    response = create_upload(client, app, box, part_size=6 * 1024**3)

    assert response.status_code == 400
    assert response.json["exception_id"] == "invalidPartSize"


@pytest.mark.parametrize(
    ("headers", "status", "exception_id"),
    [
        (lambda app, box: {}, 401, "wotMissing"),
        (lambda app, box: {"Authorization": "Bearer nonsense"}, 403, "wotValidationError"),
        (
            lambda app, box: wot(app, work_type="view", box_id=str(box.file_upload_box_id)),
            403,
            "wotValidationError",
        ),
        (
            lambda app, box: wot(
                app, work_type="create", alias="other", box_id=str(box.file_upload_box_id)
            ),
            403,
            "wotValidationError",
        ),
        (
            lambda app, box: wot(app, work_type="create", alias="a.bam", box_id=str(uuid4())),
            403,
            "wotValidationError",
        ),
    ],
)
def test_creation_needs_the_right_work_order_token(client, app, box, headers, status, exception_id):
    response = client.post(
        f"/upload/boxes/{box.file_upload_box_id}/uploads",
        json={"alias": "a.bam", "decrypted_size": 1, "encrypted_size": 153, "part_size": 10},
        headers=headers(app, box),
    )

    assert response.status_code == status
    assert response.json["exception_id"] == exception_id
    assert "description" in response.json and "detail" in response.json


def test_an_expired_work_order_token_is_refused(client, app, box):
    keys = app.extensions["token_keys"]
    token = jwt.encode(
        {"work_type": "view", "box_id": str(box.file_upload_box_id),
         "user_public_crypt4gh_key": USER_KEY, "iat": int(time.time()) - 100,
         "exp": int(time.time()) - 60},
        keys.work_order_signing.key, algorithm="ES256", headers={"kid": keys.work_order_kid},
    )  # fmt: skip

    response = client.get(
        f"/upload/boxes/{box.file_upload_box_id}/uploads",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 403
    assert response.json["description"] == "The work order token has expired"


def test_drs_answers_404_for_unknown_content_and_202_while_verifying(client, app, db, box):
    unknown = client.get(
        "/download/objects/GHGAF1",
        headers=wot(app, work_type="download", accession="GHGAF1", file_id=str(uuid4())),
    )
    created = create_upload(client, app, box)
    upload = db.session.get(FileUpload, uuid_of(created))
    upload.state = "inbox"
    db.session.commit()
    verifying = client.get(
        "/download/objects/GHGAF2",
        headers=wot(app, work_type="download", accession="GHGAF2", file_id=str(upload.id)),
    )
    wrong_file = client.get(
        "/download/objects/GHGAF3",
        headers=wot(app, work_type="download", accession="GHGAF2", file_id=str(upload.id)),
    )

    assert (unknown.status_code, unknown.json["exception_id"]) == (404, "noSuchObject")
    assert verifying.status_code == 202
    assert verifying.headers["Retry-After"] == "5"
    assert wrong_file.status_code == 403


def test_part_bodies_over_the_limit_are_413(db, instance_path, box):
    app = create_app(make_settings(instance_path, upload_part_max_bytes=1000))
    client = app.test_client()
    created = create_upload(client, app, box, part_size=500)
    fub, file_id = box.file_upload_box_id, created.json["file_id"]
    url = client.get(
        f"/upload/boxes/{fub}/uploads/{file_id}/parts/1",
        headers=wot(app, work_type="upload", file_id=file_id, box_id=str(fub)),
    ).json

    response = client.put(url.split("127.0.0.1:5000", 1)[1], data=b"x" * 1001)

    assert response.status_code == 413


@pytest.mark.parametrize(("number", "size"), [(1, 101), (2, 51)])
def test_a_part_larger_than_the_part_size_is_400_and_not_stored(client, app, box, number, size):
    created = create_upload(client, app, box, encrypted_size=150, part_size=100)
    file_id = created.json["file_id"]
    url = part_url(client, app, box, file_id, number)

    declared = client.put(url, data=b"x" * size)
    streamed = client.put(url, input_stream=io.BytesIO(b"x" * size))
    fitting = client.put(url, data=b"x" * (size - 1))

    assert (declared.status_code, declared.json["code"]) == (400, "part_too_large")
    assert (streamed.status_code, streamed.json["code"]) == (400, "part_too_large")
    assert fitting.status_code == 200
    parts = object_store_of(app).uploaded_parts(file_id, file_id)
    assert [(p.number, p.size) for p in parts] == [(number, size - 1)]


def test_closing_refuses_parts_larger_than_the_part_size(client, app, db, box):
    # S3's presigned part URLs cannot bound a body: such a part is met at close.
    created = create_upload(client, app, box, encrypted_size=150, part_size=100)
    fub, file_id = box.file_upload_box_id, created.json["file_id"]
    parts = [b"a" * 120, b"b" * 30]
    for number, content in enumerate(parts, 1):
        object_store_of(app).receive_part(file_id, number, io.BytesIO(content))
    md5s = [hashlib.md5(p, usedforsecurity=False).hexdigest() for p in parts]
    joined = b"".join(bytes.fromhex(m) for m in md5s)

    closed = client.patch(
        f"/upload/boxes/{fub}/uploads/{file_id}",
        json={
            "decrypted_sha256": "ab" * 32,
            "encrypted_md5": hashlib.md5(joined, usedforsecurity=False).hexdigest() + "-2",
            "encrypted_parts_md5": md5s,
            "encrypted_parts_sha256": [hashlib.sha256(p).hexdigest() for p in parts],
        },
        headers=wot(app, work_type="close", file_id=file_id, box_id=str(fub)),
    )

    assert closed.status_code == 400
    assert closed.json["exception_id"] == "checksumMismatch"
    assert "part size" in closed.json["description"]


def test_a_part_url_with_a_changed_size_bound_is_403(client, app, box):
    created = create_upload(client, app, box, encrypted_size=150, part_size=100)
    url = part_url(client, app, box, created.json["file_id"])

    response = client.put(url.replace("max_bytes=100", "max_bytes=1000"), data=b"x" * 101)

    assert response.status_code == 403


def object_store_of(app):
    return app.extensions["object_store"]


def test_stewards_see_uploads_with_file_ids(client, app, db, box, steward_key):
    created = create_upload(client, app, box)

    listing = client.get(f"/upload-boxes/{box.id}/uploads", headers=steward_key)
    unknown = client.get(f"/upload-boxes/{uuid4()}/uploads", headers=steward_key)

    assert listing.status_code == 200
    assert [(i["file_id"], i["alias"], i["state"]) for i in listing.json["items"]] == [
        (created.json["file_id"], "a.bam", "init")
    ]
    assert unknown.status_code == 404


def test_kept_upload_parts_serve_every_range_across_part_boundaries(client, app):

    store = app.extensions["object_store"]
    header, first, second = b"H" * 10, bytes(range(256)) * 4, bytes(range(255, -1, -1)) * 3
    upload_id = store.begin_upload("kept")
    store.receive_part("kept", 1, io.BytesIO(header + first))
    store.receive_part("kept", 2, io.BytesIO(second))
    content = first + second

    size = store.keep_upload("kept", upload_id, "kept-object", len(header), iter([]))
    url = store.download_url("kept-object").split("127.0.0.1:5000", 1)[1]

    assert size == len(content)
    assert client.get(url).data == content
    for start, end in [(0, 0), (1000, 1030), (1023, 1024), (len(content) - 7, len(content) - 1)]:
        ranged = client.get(url, headers={"Range": f"bytes={start}-{end}"})
        assert ranged.status_code == 206
        assert ranged.data == content[start : end + 1], (start, end)
    store.delete_object("kept-object")
    assert client.get(url).status_code == 404
