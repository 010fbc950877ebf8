"""The production server's command line (`invoke serve`, the benchmark)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def server_command(
    host: str, port: int, workers: int, threads: int, target: str = "run:app"
) -> list[str]:
    """The production server: granian, WSGI, HTTP/1.1 keep-alive, `workers` processes.

    `threads` are each worker's WSGI threads (granian's blocking threads); the
    token routes keep one database connection per thread (docs/adr/0016). No
    `--respawn-failed-workers`: with it, granian 2.8 now and then respawned a
    worker while stopping and then waited for it forever (SIGTERM ignored).
    `--workers-kill-timeout`: a worker that has not stopped 20 s after SIGTERM is
    killed (granian waits forever by default; the benchmark saw a server still up 30 s
    after its terminate), inside Kubernetes' 30 s grace period.
    """
    return [
        sys.executable, "-m", "granian", target,
        "--interface", "wsgi",
        "--host", host,
        "--port", str(port),
        "--workers", str(workers),
        "--blocking-threads", str(threads),
        "--working-dir", str(ROOT),
        "--no-ws",
        "--workers-kill-timeout", "20",
        "--log-level", "warning",
    ]  # fmt: skip
