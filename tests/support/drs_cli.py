"""ELIXIR's DRS client (`drs-cli` from the package index), in a virtual environment of its own.

It is a library (`drs_cli.client.DRSClient`) without a command; the tests run it in its
own interpreter, the way a researcher's script would.
"""

import json
import os
import subprocess
import sys

from tests.support.worker_processes import ROOT

VERSION = "0.2.3"
VENV = ROOT / ".cache" / f"drs-cli-{VERSION}"
#: drs-cli declares no dependencies; these are what it imports.
NEEDS = ("requests", "pydantic>=2", "urllib3")

SCRIPT = """
import json, sys, time
from drs_cli.client import DRSClient
from drs_cli.models import Error

port, token, object_id, access_id = sys.argv[1:5]
client = DRSClient("http://127.0.0.1", port=int(port), token=token or None)
for _ in range(60):
    found = client.get_object(object_id)
    if not (isinstance(found, Error) and found.status_code == 202):
        break
    time.sleep(0.5)
result = {"object": json.loads(found.json())}
if not isinstance(found, Error) and access_id:
    access = client.get_access_url(object_id, access_id)
    result["access"] = json.loads(access.json())
print(json.dumps(result))
"""


def ensure_drs_cli():
    python = VENV / "bin" / "python"
    if not (VENV / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "--quiet", f"drs-cli=={VERSION}", *NEEDS],
            check=True,
        )
        (VENV / ".installed").write_text(VERSION)
    return python


def drs_cli(port: int, token: str | None, object_id: str, access_id: str = "") -> dict:
    """What DRSClient answers for the object (and its access URL): `Error` or the model."""
    done = subprocess.run(
        [str(ensure_drs_cli()), "-c", SCRIPT, str(port), token or "", object_id, access_id],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ) | {"NO_PROXY": "127.0.0.1,localhost"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
