"""End to end with ELIXIR's DRS client (`drs-cli` 0.2.3 from the package index).

The live service (granian, behind a proxy) with two real Celery workers, which build
the person's Crypt4GH envelope while the client is told 202. The download is checked
against the object's SHA-256, and `crypt4gh decrypt` with the person's key gives back
the original bytes.
"""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from app.access.services import revoke_grant
from tests.support.drs_cli import drs_cli
from tests.support.drs_world import account_for, stored_dataset
from tests.support.factories import grant
from tests.support.live_service import service_stack
from tests.support.users import Researcher

pytestmark = [pytest.mark.worker]
CRYPT4GH = Path(sys.executable).parent / "crypt4gh"
KEYGEN = Path(sys.executable).parent / "crypt4gh-keygen"


@pytest.fixture(scope="module")
def service(app, instance_path, tmp_path_factory):
    logs = tmp_path_factory.mktemp("drs-live-logs")
    with service_stack(app.extensions["celery"], instance_path, logs) as proxy:
        yield proxy


@pytest.fixture
def person(db, app, tmp_path):
    """A researcher whose profile holds the public key made by `crypt4gh-keygen`."""
    subprocess.run(
        [str(KEYGEN), "--sk", str(tmp_path / "me.sec"), "--pk", str(tmp_path / "me.pub"),
         "--nocrypt", "-f"],
        check=True, capture_output=True,
    )  # fmt: skip
    researcher = Researcher(app)
    account = account_for(researcher)
    lines = (tmp_path / "me.pub").read_text().splitlines()
    account.crypt4gh_public_key = "".join(line for line in lines if not line.startswith("-----"))
    from app.extensions import db as database

    database.session.commit()
    return researcher, tmp_path / "me.sec"


def test_drs_cli_resolves_downloads_and_the_bytes_decrypt(service, person, db, tmp_path):
    researcher, secret_key = person
    files, contents = stored_dataset("DS1")
    granted = grant(researcher.id, dataset="DS1")
    token = researcher.token()

    answer = drs_cli(service.port, token, files[0], "c4gh")

    drs_object = answer["object"]
    assert drs_object["id"] == files[0]
    url = answer["access"]["url"]
    assert url.startswith(f"http://127.0.0.1:{service.port}/ga4gh/drs/v1/streams/")
    stream = requests.get(url, timeout=30)
    assert stream.status_code == 200
    assert len(stream.content) == drs_object["size"]
    (checksum,) = drs_object["checksums"]
    assert checksum["type"] == "sha-256"
    assert hashlib.sha256(stream.content).hexdigest() == checksum["checksum"]
    (tmp_path / "file.c4gh").write_bytes(stream.content)
    with (tmp_path / "file.c4gh").open("rb") as encrypted:
        decrypted = subprocess.run(
            [str(CRYPT4GH), "decrypt", "--sk", str(secret_key)],
            stdin=encrypted,
            capture_output=True,
            check=True,
        )
    assert decrypted.stdout == contents[files[0]]

    # self_uri resolves: drs://{host}/{id} is https://{host}/ga4gh/drs/v1/objects/{id}.
    host, object_id = drs_object["self_uri"].removeprefix("drs://").split("/", 1)
    resolved = requests.get(
        f"http://{host}/ga4gh/drs/v1/objects/{object_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert resolved.status_code == 200 and resolved.json()["id"] == files[0]

    # A revoked grant stops the next access URL.
    revoke_grant(granted.id)
    db.session.commit()
    after = drs_cli(service.port, token, files[0], "c4gh")
    assert after["object"]["status_code"] == 403
    assert "no current download grant" in after["object"]["msg"]


def test_drs_cli_without_a_grant_is_told_403(service, person, db):
    researcher, _ = person
    files, _ = stored_dataset("DS2", files=1)
    answer = drs_cli(service.port, researcher.token(), files[0], "c4gh")
    assert answer["object"] == {
        "msg": "You have no current download grant for DS2",
        "status_code": 403,
    }
