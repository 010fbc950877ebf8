"""The unmodified ghga-connector 4.0.1, in a virtual environment of its own.

Used by the connector tests and by `invoke chaos` (devtools may not import tests).
"""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

VERSION = "4.0.1"
VENV = ROOT / ".cache" / f"ghga-connector-{VERSION}"


def ensure_connector() -> Path:
    """The connector's venv, created once (it pins its own dependencies)."""
    executable = VENV / "bin" / "ghga-connector"
    if not executable.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "--quiet", f"ghga-connector=={VERSION}"],
            check=True,
        )
    return VENV / "bin"


@dataclass(frozen=True)
class Connector:
    bin: Path
    workdir: Path
    wkvs_url: str
    #: Seconds a run may take before it is ended (TimeoutExpired).
    timeout: float = 600

    @property
    def public_key(self) -> Path:
        return self.workdir / "key.pub"

    @property
    def private_key(self) -> Path:
        return self.workdir / "key.sec"

    def make_keys(self) -> None:
        subprocess.run(
            [str(self.bin / "crypt4gh-keygen"), "--sk", str(self.private_key), "--pk",
             str(self.public_key), "--nocrypt", "-f"],
            check=True, capture_output=True,
        )  # fmt: skip

    def run(self, *arguments: str, stdin: str = "", part_size: int | None = None):
        env = dict(os.environ) | {
            "GHGA_CONNECTOR_WKVS_API_URL": self.wkvs_url,
            "NO_PROXY": "127.0.0.1,localhost",
            "COLUMNS": "200",
        }
        if part_size:
            env["GHGA_CONNECTOR_PART_SIZE"] = str(part_size)
        return subprocess.run(
            [str(self.bin / "ghga-connector"), *arguments],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=self.workdir,
            timeout=self.timeout,
        )

    def download(self, token_line: str, output: Path, part_size: int | None = None):
        output.mkdir(parents=True, exist_ok=True)
        return self.run(
            "download", "--output-dir", str(output),
            "--my-public-key-path", str(self.public_key),
            "--my-private-key-path", str(self.private_key),
            stdin=token_line + "\n", part_size=part_size,
        )  # fmt: skip

    def batch_upload(self, token_line: str, tsv: Path):
        return self.run(
            "batch-upload", "--tsv", str(tsv),
            "--my-public-key-path", str(self.public_key),
            "--my-private-key-path", str(self.private_key),
            stdin=token_line + "\n",
        )  # fmt: skip

    def decrypt(self, input_dir: Path, output: Path):
        output.mkdir(parents=True, exist_ok=True)
        return self.run(
            "decrypt", "--input-dir", str(input_dir), "--output-dir", str(output),
            "--my-private-key-path", str(self.private_key),
        )  # fmt: skip
