"""The README's walk-throughs, run as written against a fresh embedded-default server.

Every ```bash block of the README is a walk-through step (reference snippets that
need values of your own are ```sh blocks). They run in order in one bash process,
as in the one shell the README asks for, from a copy of the repository folder so
that `demo/` is the test's own. The server is `invoke serve` on the embedded
default: SQLite and the generated keys in a fresh instance folder, tasks in-process.

The environment differs from a newcomer's in three ways only: `WPS` points at the
test's port (the README reads it), `INSTANCE_PATH` is the test's folder (the server
and the commands share it, as they share `instance/` in a clone), and `pipenv run`
runs the command with this interpreter's environment first on PATH, which is what
`pipenv run` does. The connector walk-through finds the connector the suite already
installed (tests/support/connector.py) in `demo/connector`, as on a second run.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.config import Settings
from devtools.local_services import free_port, wait_until_answering
from tests.support.connector import ensure_connector
from tests.support.secrets_seen import remember
from tests.support.worker_processes import ROOT

pytestmark = pytest.mark.connector

README = ROOT / "README.md"
FENCED = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
STRICT_MODE = "set -euo pipefail"
# Left out of the copy: the test's own demo/ and instance folder take their place.
NOT_COPIED = {".git", "demo", "instance", ".cache", ".pytest_cache"}


def walk_through_blocks(readme: str) -> list[str]:
    return [body for language, body in FENCED.findall(readme) if language == "bash"]


def test_every_walk_through_block_stops_at_a_failed_step():
    blocks = walk_through_blocks(README.read_text())

    assert len(blocks) >= 5
    for block in blocks:
        assert block.startswith(STRICT_MODE), block.splitlines()[0]


def _clean_environment() -> dict:
    return {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}


def _repository_copy(folder: Path) -> Path:
    """The repository's files as links, leaving out demo/ and the instance folder."""
    folder.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in NOT_COPIED:
            (folder / entry.name).symlink_to(entry)
    return folder


def _pipenv_shim(folder: Path) -> Path:
    folder.mkdir()
    shim = folder / "pipenv"
    shim.write_text(
        "#!/bin/sh\n"
        '[ "$1" = run ] || { echo "pipenv $1: only `pipenv run` is expected here" >&2; exit 2; }\n'
        f'shift; PATH="{Path(sys.executable).parent}:$PATH" exec "$@"\n'
    )
    shim.chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("readme-instance")
    port = free_port()
    env = _clean_environment() | {
        "INSTANCE_PATH": str(instance),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log = open(instance / "serve.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "invoke", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # serve starts the server as a child: stop them together
    )
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/health", process, "the README's server")
        yield f"http://127.0.0.1:{port}", instance
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        _wait_for_group_to_end(process.pid)
        log.close()


def _wait_for_group_to_end(group: int) -> None:
    # The server under `serve` finishes its graceful shutdown after `serve` itself.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(group, signal.SIGKILL)


def _run(script: str, server, folder: Path) -> subprocess.CompletedProcess:
    """`script` in bash, from a copy of the repository, against the test's server."""
    url, instance = server
    repository = _repository_copy(folder / "repository")
    (repository / "demo").mkdir()
    (repository / "demo" / "connector").symlink_to(ensure_connector().parent)
    env = _clean_environment() | {
        "INSTANCE_PATH": str(instance),
        "WPS": url,
        "PATH": f"{_pipenv_shim(folder / 'bin')}:{os.environ['PATH']}",
    }
    return subprocess.run(
        ["bash", "-c", script],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_readme_walk_throughs_run_as_written(server, tmp_path):
    result = _run("\n".join(walk_through_blocks(README.read_text())), server, tmp_path)

    output = f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
    assert result.returncode == 0, output
    # "Try the portal": the demo people with their keys, and a code for one of them.
    assert re.search(r"researcher\s+active\s+researcher@demo\.example\s+TOTP key", result.stdout)
    assert re.search(r"^\d{6}$", result.stdout, re.M), output
    # The connector walk-through's last step: the file came back byte-identical.
    assert "identical" in result.stdout.splitlines(), output
    assert '"status":"allowed"' in result.stdout.replace(" ", ""), output
    assert "it needs ADMIN or DATA_STEWARD (it holds JOBS_ADMIN)" in result.stdout, output
    shown = set(re.findall(r"wpsrt_[\w-]+|eyJ[\w-]+\.[\w-]+\.[\w-]+", result.stdout))
    assert shown, "the walk-throughs show a refresh token and a work order token"
    server_log = (server[1] / "serve.log").read_text()
    assert not [secret for secret in map(remember, shown) if secret in server_log]


def test_a_walk_through_stops_at_its_first_failed_step(server, tmp_path):
    blocks = walk_through_blocks(README.read_text())
    setup = next(block for block in blocks if "api() {" in block)
    first_walk_through = blocks[blocks.index(setup) + 1]
    taken = "pipenv run invoke create-application-key -n steward -p DATA_STEWARD || true\n"

    result = _run(taken + setup + first_walk_through, server, tmp_path)

    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "error: application 'steward' already has a live key; revoke it first "
        "(invoke revoke-application-key -n steward) or choose another name"
    )
    # Step 2 would have printed the dataset; nothing ran after the failed step.
    assert "DS1" not in result.stdout
