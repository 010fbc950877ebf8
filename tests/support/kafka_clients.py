"""Kafka clients for tests: hexkit's publisher, and `invoke consume-events` processes."""

import asyncio
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

from confluent_kafka import Consumer
from hexkit.providers.akafka import KafkaConfig, KafkaEventPublisher

from tests.support.worker_processes import ROOT, worker_environment


@dataclass(frozen=True)
class Record:
    """One event as a GHGA service publishes it."""

    topic: str
    type_: str
    key: str
    payload: dict
    event_id: UUID


def record(topic: str, type_: str, key: str, payload: dict, event_id: UUID | None = None):
    return Record(topic, type_, key, payload, event_id or uuid4())


def publish(bootstraps: str, records: list[Record]) -> None:
    """Publish with hexkit's KafkaEventPublisher, the publisher GHGA services use."""
    config = KafkaConfig(
        service_name="test-publisher", service_instance_id="1", kafka_servers=[bootstraps]
    )

    async def send() -> None:
        async with KafkaEventPublisher.construct(config=config) as publisher:
            for item in records:
                await publisher.publish(
                    payload=item.payload,
                    type_=item.type_,
                    key=item.key,
                    topic=item.topic,
                    event_id=item.event_id,
                )

    # A thread of its own: the browser tests' Playwright keeps an event loop running
    # in the main thread for the whole session, where asyncio.run() is refused.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, send()).result()


def feed_topics(prefix: str) -> dict[str, str]:
    """Topic settings of one scenario, so scenarios do not read each other's records."""
    return {
        "dataset_change_topic": f"{prefix}-datasets",
        "upload_box_topic": f"{prefix}-boxes",
        "accession_map_topic": f"{prefix}-accessions",
    }


def consumer_environment(instance_path, bootstraps: str, **settings) -> dict:
    settings = {"celery_always_eager": True, "log_format": "text"} | settings
    env = worker_environment(instance_path, **settings)
    env["KAFKA_SERVERS"] = json.dumps([bootstraps])
    return env


class ConsumerProcess:
    """`invoke consume-events` as a child process, with its log."""

    def __init__(self, env: dict, log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "a")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "invoke", "consume-events"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_assigned(self, timeout: float = 60) -> None:
        """Until the group gave this consumer partitions (its first assignment)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the consumer exited:\n{self.log()}")
            if any(
                "assigned" in line and "assigned nothing" not in line
                for line in self.log().splitlines()
            ):
                return
            time.sleep(0.1)
        raise RuntimeError(f"the consumer got no partitions:\n{self.log()}")

    def stop(self) -> int:
        """SIGTERM: it finishes its batch and leaves the group."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._log.close()
        return code


@contextmanager
def consumer_process(env: dict, log_path: Path, wait: bool = True):
    consumer = ConsumerProcess(env, log_path)
    try:
        if wait:
            consumer.wait_until_assigned()
        yield consumer
    finally:
        consumer.stop()


def read_topic(bootstraps: str, topic: str, count: int, timeout: float = 30) -> list:
    """The first `count` records of a topic, read by a group of their own."""
    reader = Consumer(
        {
            "bootstrap.servers": bootstraps,
            "group.id": f"test-reader-{uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    reader.subscribe([topic])
    found = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < count and time.monotonic() < deadline:
            found += [m for m in reader.consume(count, 0.5) if m.error() is None]
    finally:
        reader.close()
    return found
