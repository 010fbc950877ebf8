"""Server processes on this machine: a free port, waiting until one answers, stopping it.

Shared by the tests, the benchmarks and `invoke chaos`, which all start servers of
their own (the service, nginx, an OpenID provider) on 127.0.0.1.
"""

import socket
import subprocess
import time

import requests

# Straight to 127.0.0.1, whatever proxy the environment names.
_local = requests.Session()
_local.trust_env = False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(
    url: str,
    process: subprocess.Popen,
    what: str,
    seconds: float = 60,
    method: str = "GET",
    interval: float = 0.2,
) -> None:
    """Until `url` answers 200; RuntimeError naming `what` if the process exits first
    or nothing answers within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited during start-up")
        try:
            if _local.request(method, url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(interval)
    raise RuntimeError(f"{what} did not answer 200 within {seconds:g} s")


def stop(process: subprocess.Popen, seconds: float = 30) -> bool:
    """SIGTERM, then SIGKILL if the process is still running `seconds` later, so that
    no server outlives its caller; False when it had to be killed."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=seconds)
        return False
