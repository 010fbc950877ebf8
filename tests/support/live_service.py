"""The service as users meet it: `invoke serve` on 127.0.0.1, with real PostgreSQL and Redis."""

import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.support.worker_processes import ROOT, worker_environment


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def live_service(instance_path, port: int, log_dir: Path, **settings):
    """`invoke serve` (granian) serving `run:app` until the block ends."""
    env = worker_environment(instance_path, **settings)
    log = open(log_dir / "service.log", "w")  # noqa: SIM115
    command = [sys.executable, "-m", "invoke", "serve", "--no-migrate"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_healthy(f"http://127.0.0.1:{port}/health", process)
        yield process
    finally:
        stop(process)
        log.close()


def stop(process) -> None:
    """SIGTERM, then SIGKILL if the server has not stopped within 30 s (a worker stuck
    in a request must not fail the test that already passed)."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _wait_until_healthy(url: str, process) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the service exited during start-up; see service.log")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("the service did not become healthy within 60 s")


@contextmanager
def service_stack(celery, instance_path, log_dir: Path, **settings):
    """Proxy -> the service -> PostgreSQL/Redis, plus two workers; URLs point at the proxy."""
    from tests.support.http_proxy import FaultProxy
    from tests.support.worker_processes import worker_processes

    port = free_port()
    with FaultProxy(port) as proxy:
        settings = settings | {"public_base_url": f"http://127.0.0.1:{proxy.port}"}
        with (
            live_service(instance_path, port, log_dir, **settings),
            worker_processes(celery, instance_path, count=2, log_dir=log_dir, **settings),
        ):
            yield proxy
