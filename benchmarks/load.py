"""HTTP load with wrk: rate, latency percentiles and errors."""

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    url: str, method: str, headers: dict, connections: int, seconds: int, body: str = ""
) -> LoadResult:
    script = "\n".join(
        [f'wrk.method = "{method}"']
        + [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
        + ([f"wrk.body = '{body}'"] if body else [])
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        output = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return _parse(output)


def _parse(output: str) -> LoadResult:
    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return LoadResult(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        requests=requests,
        errors=errors,
    )
