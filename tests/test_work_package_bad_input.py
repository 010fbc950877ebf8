"""Every bad input to the work package endpoints: a clear JSON error, nothing written."""

import base64
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from nacl.public import PrivateKey
from sqlalchemy import func, select

from app.access.models import AccessGrant
from app.credentials.internal_tokens import SECOND_FACTOR_AMR
from app.credentials.jwk import generate_private_jwk
from app.work_packages.models import WorkPackage, WorkPackageFile
from tests.support.factories import create_dataset, create_upload_box, grant
from tests.support.users import Researcher


def stored_packages(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(WorkPackage)) + db.session.scalar(
        select(func.count()).select_from(WorkPackageFile)
    )


@pytest.fixture
def catalog_with_grant(db, researcher):
    create_dataset("DS1", files=2)
    create_dataset("UP1", files=1, stage="upload")
    box = create_upload_box()
    grant(researcher.id, dataset="DS1")
    grant(researcher.id, dataset="UP1")
    grant(researcher.id, box=box.id)
    return box


def post_package(client, researcher, **changes):
    body = {
        "type": "download",
        "dataset_id": "DS1",
        "user_public_crypt4gh_key": researcher.public_key,
    } | changes
    return client.post("/work-packages", json=body, headers=researcher.headers())


PRIVATE_KEY_FILE = (
    "-----BEGIN CRYPT4GH PRIVATE KEY-----\n"
    "YzRnaC12MQAEbm9uZQAEbm9uZQAgMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"
    "-----END CRYPT4GH PRIVATE KEY-----\n"
)


@pytest.mark.parametrize(
    ("changes", "status", "code", "message_part"),
    [
        ({"user_public_crypt4gh_key": PRIVATE_KEY_FILE}, 422, "validation_error", "private key"),
        (
            {"user_public_crypt4gh_key": base64.b64encode(b"x" * 31).decode()},
            422,
            "validation_error",
            "32 bytes",
        ),
        ({"user_public_crypt4gh_key": "not base64 at all!"}, 422, "validation_error", "base64"),
        ({"unexpected": 1}, 422, "validation_error", "Extra inputs"),
        ({"type": "sideways"}, 422, "validation_error", "download"),
        ({"dataset_id": None}, 422, "validation_error", "dataset_id is required"),
        ({"dataset_id": "NOPE"}, 403, "access_denied", "Missing dataset access permission"),
        ({"dataset_id": "UP1"}, 409, "dataset_not_downloadable", "upload stage"),
        ({"file_ids": ["GHGAFnothing"]}, 403, "no_files", "No existing files"),
        (
            {"type": "upload", "dataset_id": None, "research_data_upload_box_id": "nope"},
            422,
            "validation_error",
            "UUID",
        ),
        (
            {"type": "upload", "dataset_id": None, "research_data_upload_box_id": str(uuid4())},
            403,
            "access_denied",
            "Missing upload box access permission",
        ),
    ],
)
def test_creation_refusals(
    client, db, researcher, catalog_with_grant, changes, status, code, message_part
):
    response = post_package(client, researcher, **changes)

    assert response.status_code == status, response.json
    assert response.json["code"] == code
    assert message_part in str(response.json["detail"])
    assert stored_packages(db) == 0


def test_granted_but_unknown_dataset_is_404(client, db, researcher, catalog_with_grant):
    db.session.add(
        AccessGrant(
            kind="download",
            user_id=researcher.id,
            dataset_accession="GONE",
            valid_from=datetime.now(UTC) - timedelta(days=1),
            valid_until=datetime.now(UTC) + timedelta(days=1),
            granted_by="test",
        )
    )
    db.session.commit()

    response = post_package(client, researcher, dataset_id="GONE")

    assert response.status_code == 404
    assert response.json["code"] == "dataset_not_found"
    assert stored_packages(db) == 0


@pytest.mark.parametrize("grant_state", ["expired", "revoked", "not_yet_valid"])
def test_inactive_grants_do_not_count(client, db, researcher, grant_state):
    create_dataset("DS9")
    if grant_state == "not_yet_valid":
        grant(researcher.id, dataset="DS9", starts_in_days=2, days=5)
    else:
        row = grant(researcher.id, dataset="DS9")
        if grant_state == "expired":
            row.valid_from = datetime.now(UTC) - timedelta(days=3)
            row.valid_until = datetime.now(UTC) - timedelta(days=1)
        else:
            row.revoked_at = datetime.now(UTC)
        db.session.add(row)
        db.session.commit()

    response = post_package(client, researcher, dataset_id="DS9")

    assert response.status_code == 403
    assert response.json == {"detail": "Missing dataset access permission", "code": "access_denied"}
    assert stored_packages(db) == 0


def _token(researcher, *, key=None, algorithm="ES256", headers=None, **claim_changes):
    now = datetime.now(UTC)
    claims = {
        "id": str(researcher.id),
        "name": researcher.name,
        "email": researcher.email,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "amr": SECOND_FACTOR_AMR,  # made after the second factor, as the portal's are
    } | claim_changes
    claims = {k: v for k, v in claims.items() if v is not None}
    signing_key = key or researcher.app.extensions["token_keys"].auth_signing.key
    return jwt.encode(claims, signing_key, algorithm=algorithm, headers=headers)


def _alg_none(researcher) -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    payload = _token(researcher).split(".")[1]
    return f"{header}.{payload}."


def _hs256_with_public_key(researcher) -> str:
    import hashlib
    import hmac
    import json

    public = researcher.app.extensions["token_keys"].auth_verify.key
    from cryptography.hazmat.primitives import serialization

    secret = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256"}).encode()).rstrip(b"=")
    payload = _token(researcher).split(".")[1].encode()
    signature = hmac.new(secret, header + b"." + payload, hashlib.sha256).digest()
    return (
        header + b"." + payload + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")
    ).decode()


def _tampered(researcher) -> str:
    header, payload, signature = _token(researcher).split(".")
    import json

    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["id"] = str(uuid4())
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


BAD_TOKENS = {
    "expired": lambda r: _token(r, exp=int((datetime.now(UTC) - timedelta(minutes=2)).timestamp())),
    "issued in the future": lambda r: _token(
        r, iat=int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
    ),
    "alg none": _alg_none,
    "HS256 with the public key": _hs256_with_public_key,
    "signed by another key": lambda r: _token(r, key=ec.generate_private_key(ec.SECP256R1())),
    "unknown kid": lambda r: _token(r, headers={"kid": "someone-elses-key"}),
    "tampered payload": _tampered,
    "missing email": lambda r: _token(r, email=None),
    "missing exp": lambda r: _token(r, exp=None),
    "user id not a uuid": lambda r: _token(r, id="12345"),
    "not a JWT": lambda r: "abc.def",
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_bad_internal_tokens_are_401(client, db, researcher, catalog_with_grant, kind):
    token = BAD_TOKENS[kind](researcher)

    response = client.post(
        "/work-packages",
        json={
            "type": "download",
            "dataset_id": "DS1",
            "user_public_crypt4gh_key": researcher.public_key,
        },
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 401
    assert response.json["code"] == "invalid_token"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert stored_packages(db) == 0


def test_a_token_within_the_leeway_still_works(client, db, researcher, catalog_with_grant):
    token = _token(researcher, exp=int((datetime.now(UTC) - timedelta(seconds=30)).timestamp()))

    response = client.post(
        "/work-packages",
        json={
            "type": "download",
            "dataset_id": "DS1",
            "user_public_crypt4gh_key": researcher.public_key,
        },
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 201


def test_missing_credential_is_401_before_the_body_is_read(client, db):
    response = client.post("/work-packages", data=b"{not json")

    assert response.status_code == 401
    assert response.json["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- work package access tokens and work order tokens ---------------------------------


@pytest.fixture
def packages(client, db, researcher, catalog_with_grant):
    box = catalog_with_grant
    download = post_package(client, researcher).json
    upload = post_package(
        client, researcher, type="upload", dataset_id=None, research_data_upload_box_id=str(box.id)
    ).json
    return {
        "download": download,
        "download_wpat": researcher.open_sealed(download["token"]),
        "upload": upload,
        "upload_wpat": researcher.open_sealed(upload["token"]),
        "box": box,
    }


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_package_id_must_be_a_uuid(client, packages):
    response = client.get("/work-packages/not-a-uuid", headers=bearer(packages["download_wpat"]))

    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["path", "work_package_id"]


@pytest.mark.parametrize(
    ("case", "expected_detail"),
    [
        ("wrong token", "Invalid work package access token"),
        ("token of another package", "Invalid work package access token"),
        ("unknown package", "Invalid work package access token"),
    ],
)
def test_wrong_access_tokens_are_403(client, packages, case, expected_detail):
    package_id = packages["download"]["id"]
    token = packages["download_wpat"]
    if case == "wrong token":
        token = "A" * 24
    elif case == "token of another package":
        token = packages["upload_wpat"]
    else:
        package_id = str(uuid4())

    response = client.get(f"/work-packages/{package_id}", headers=bearer(token))

    assert response.status_code == 403
    assert response.json["detail"] == expected_detail


def test_missing_access_token_is_401(client, packages):
    response = client.get(f"/work-packages/{packages['download']['id']}")

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("make_request", "status", "code"),
    [
        (
            lambda p: ("download", "files/GHGAFDS19999/work-order-tokens", None),
            403,
            "file_not_in_work_package",
        ),
        (
            lambda p: ("download", "files/bad-accession/work-order-tokens", None),
            422,
            "validation_error",
        ),
        (
            lambda p: ("download", f"boxes/{p['box'].id}/work-order-tokens", {"work_type": "view"}),
            403,
            "wrong_work_package_type",
        ),
        (
            lambda p: ("upload", "files/GHGAFDS10000/work-order-tokens", None),
            403,
            "wrong_work_package_type",
        ),
        (
            lambda p: ("upload", f"boxes/{uuid4()}/work-order-tokens", {"work_type": "view"}),
            403,
            "wrong_box",
        ),
        (
            lambda p: ("upload", f"boxes/{p['box'].id}/work-order-tokens", {"work_type": "create"}),
            422,
            "validation_error",
        ),
        (
            lambda p: ("upload", f"boxes/{p['box'].id}/work-order-tokens", {"work_type": "upload"}),
            422,
            "validation_error",
        ),
        (
            lambda p: ("upload", f"boxes/{p['box'].id}/work-order-tokens", {"work_type": "close"}),
            422,
            "validation_error",
        ),
        (
            lambda p: ("upload", f"boxes/{p['box'].id}/work-order-tokens", {"work_type": "delete"}),
            422,
            "validation_error",
        ),
        (
            lambda p: (
                "upload",
                f"boxes/{p['box'].id}/work-order-tokens",
                {"work_type": "view", "extra": 1},
            ),
            422,
            "validation_error",
        ),
        (
            lambda p: ("upload", "boxes/not-a-uuid/work-order-tokens", {"work_type": "view"}),
            422,
            "validation_error",
        ),
    ],
)
def test_work_order_token_refusals(client, packages, make_request, status, code):
    kind, tail, body = make_request(packages)
    url = f"/work-packages/{packages[kind]['id']}/{tail}"

    response = client.post(url, json=body, headers=bearer(packages[f"{kind}_wpat"]))

    assert response.status_code == status, response.json
    assert response.json["code"] == code


def test_body_is_validated_only_after_the_access_token(client, packages):
    url = f"/work-packages/{packages['upload']['id']}/boxes/{packages['box'].id}/work-order-tokens"

    response = client.post(url, data=b"{broken", headers=bearer("B" * 24))

    assert response.status_code == 403


def test_private_key_never_used_as_public(researcher):
    # A Crypt4GH private key file is refused even when its base64 body happens to be
    # 32 bytes long: the marker alone decides.
    from app.credentials.crypt4gh_keys import normalise_public_key

    secret = base64.b64encode(bytes(PrivateKey.generate())).decode()
    wrapped = f"-----BEGIN CRYPT4GH PRIVATE KEY-----\n{secret}\n-----END CRYPT4GH PRIVATE KEY-----"

    with pytest.raises(ValueError, match="private key"):
        normalise_public_key(wrapped)


def test_configured_keys_reject_wrong_halves(instance_path):
    from app.config import SettingsError
    from tests.conftest import make_settings

    private = generate_private_jwk()
    with pytest.raises(SettingsError, match="AUTH_KEY: a public key is needed"):
        from app import create_app

        create_app(make_settings(instance_path, auth_mode="external", auth_key=private))


def test_other_researchers_cannot_use_someone_elses_listing(client, app, db):
    other = Researcher(app)
    response = client.get(f"/users/{uuid4()}/boxes", headers=other.headers())

    assert response.status_code == 403
