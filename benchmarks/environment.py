"""The benchmark's own database, instance folder and API server, all on 127.0.0.1."""

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from devtools.local_services import stop, wait_until_answering

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/wps_bench"


def bench_environment(database_url: str, instance_path: Path, port: int) -> dict:
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": "benchmark-secret",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "SQLALCHEMY_POOL_SIZE": "4",
    }
    return {k: v for k, v in os.environ.items() if not k.startswith(("SQLALCHEMY", "CELERY"))} | (
        settings
    )


def fresh_database(database_url: str) -> None:
    """Create the benchmark database if needed and empty it."""
    url = make_url(database_url.replace("postgresql://", "postgresql+psycopg2://", 1))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def migrate(env: dict) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "run", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


@contextmanager
def api_server(env: dict, port: int, workers: int, threads: int):
    """`invoke serve`, the documented way to run the API, stopped on exit."""
    process = subprocess.Popen(
        [
            sys.executable, "-m", "invoke", "serve", "--no-migrate",
            "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--threads", str(threads),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/health", process, "the API server")
        yield process
    finally:
        _stop(process)


@contextmanager
def framework_floor_server(env: dict, port: int, workers: int, threads: int):
    """A trivial Flask route on the same server, workers and threads as `invoke serve`."""
    from app.serving import server_command

    command = server_command("127.0.0.1", port, workers, threads, "benchmarks.floor_app:app")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/floor", process, "the floor server")
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """A server still up 30 s after SIGTERM would hold its port and take CPU from every
    later figure: it is killed, then reported."""
    if not stop(process):
        raise RuntimeError(f"{process.args[:4]} did not stop within 30 s of SIGTERM")
