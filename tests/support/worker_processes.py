"""Real Celery worker processes (`celery -A workers.main worker`) for tests."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from app.config import Settings
from tests.conftest import TEST_BROKER_URL, TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parents[2]


def worker_environment(instance_path, **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env |= {
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL,
        "CELERY_BROKER_URL": TEST_BROKER_URL,
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": "test-secret-key",
    }
    env |= {name.upper(): str(value) for name, value in settings.items()}
    return env


@contextmanager
def worker_processes(celery, instance_path, count: int = 2, log_dir=None, **settings):
    """Start `count` solo-pool workers; wait until all answer a ping; stop them at exit."""
    env = worker_environment(instance_path, **settings)
    processes, logs = [], []
    for number in range(count):
        command = [sys.executable, "-m", "celery", "-A", "workers.main", "worker"]
        command += ["--pool", "solo", "--loglevel", "INFO", "--without-mingle"]
        command += ["--without-gossip", "--hostname", f"test-worker-{number}@%h"]
        logs.append(open(Path(log_dir or instance_path) / f"worker-{number}.log", "w"))  # noqa: SIM115
        processes.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=logs[-1], stderr=subprocess.STDOUT)
        )
    try:
        _wait_for_pings(celery, count, processes)
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def _wait_for_pings(celery, count: int, processes) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            raise RuntimeError("a worker exited during start-up; see its log")
        if len(celery.control.ping(timeout=0.5) or []) >= count:
            return
    raise RuntimeError("workers did not answer pings within 60 s")
