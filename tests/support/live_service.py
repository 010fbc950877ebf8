"""The service as users meet it: `invoke serve` on 127.0.0.1, with real PostgreSQL and Redis."""

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from devtools.local_services import free_port, stop, wait_until_answering
from tests.support.worker_processes import ROOT, worker_environment


@contextmanager
def live_service(instance_path, port: int, log_dir: Path, **settings):
    """`invoke serve` (granian) serving `run:app` until the block ends."""
    env = worker_environment(instance_path, **settings)
    log = open(log_dir / "service.log", "w")  # noqa: SIM115
    command = [sys.executable, "-m", "invoke", "serve", "--no-migrate"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_answering(
            f"http://127.0.0.1:{port}/health", process, "the service (see service.log)"
        )
        yield process
    finally:
        # A worker stuck in a request is killed; it must not fail a test that passed.
        stop(process)
        log.close()


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
