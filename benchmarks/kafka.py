"""Events through Kafka, against a bare consumer of the same client library.

Both read the same records from the same broker (librdkafka's mock cluster, as in
the tests) in the same run. The bare consumer only decodes each value's JSON; ours
(`invoke consume-events`) validates, stores in the inbox, commits offsets and hands
the keys to two Celery worker processes (Redis broker) that apply each event to the
catalog. Our rates come from the inbox's own timestamps, so start-up and group
joining are not counted, as they are not for the bare consumer.
"""

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

from confluent_kafka import Consumer
from hexkit.providers.akafka import KafkaConfig, KafkaEventPublisher
from sqlalchemy import create_engine, text

from benchmarks.environment import ROOT
from devtools.kafka_mock_broker import mock_broker

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
CELERY = [sys.executable, "-m", "celery", "-A", "workers.main"]
RECORDS = 5_000
KEYS = 1_000
BATCH = 500
TOPICS = {
    "DATASET_CHANGE_TOPIC": "bench-datasets",
    "UPLOAD_BOX_TOPIC": "bench-boxes",
    "ACCESSION_MAP_TOPIC": "bench-accessions",
}


def feed_figures(env: dict, redis_url: str, records: int = RECORDS) -> dict:
    with (
        tempfile.TemporaryDirectory(prefix="wps-bench-kafka-") as folder,
        mock_broker(Path(folder) / "broker.log") as broker,
    ):
        broker.create_topics(*TOPICS.values())
        _publish(broker.bootstraps, records)
        bare = _bare_rate(broker.bootstraps, records)
        env = env | TOPICS | {"CELERY_BROKER_URL": redis_url, "CELERY_ALWAYS_EAGER": "false"}
        stored, applied = _consumer_rates(env, broker.bootstraps, records, Path(folder))
    return {
        "records": records,
        "keys": KEYS,
        "bare_consumer_per_second": round(bare, 1),
        "stored_per_second": round(stored, 1),
        "applied_per_second": round(applied, 1),
        "stored_ratio": round(stored / bare, 3),
        "ratio": round(applied / bare, 3),
        "target_ratio": 0.5,
    }


def _payload(accession: str, version: int) -> dict:
    return {
        "accession": accession,
        "title": f"version {version}",
        "stage": "download",
        "description": "benchmark dataset",
        "dac_alias": "DAC",
        "dac_email": "dac@example.org",
        "files": [
            {"accession": f"GHGAF{accession}", "description": "file", "file_extension": ".bam"}
        ],
    }


def _publish(bootstraps: str, records: int) -> None:
    """With hexkit's publisher, as GHGA services publish."""
    config = KafkaConfig(
        service_name="bench-publisher", service_instance_id="1", kafka_servers=[bootstraps]
    )

    async def send() -> None:
        async with KafkaEventPublisher.construct(config=config) as publisher:
            for n in range(records):
                accession = f"BENCHKDS{n % KEYS:05d}"
                await publisher.publish(
                    payload=_payload(accession, n // KEYS),
                    type_="dataset_upserted",
                    key=accession,
                    topic=TOPICS["DATASET_CHANGE_TOPIC"],
                    event_id=uuid4(),
                )

    asyncio.run(send())


def _bare_rate(bootstraps: str, records: int) -> float:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstraps,
            "group.id": f"bench-bare-{uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([TOPICS["DATASET_CHANGE_TOPIC"]])
    seen, started = 0, None
    deadline = time.monotonic() + 120
    while seen < records and time.monotonic() < deadline:
        messages = consumer.consume(BATCH, 1.0)
        if messages and started is None:
            started = time.perf_counter()
        for message in messages:
            if message.error() is None:
                json.loads(message.value())
                seen += 1
        if messages:
            consumer.commit(asynchronous=False)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    if seen < records:
        raise RuntimeError(f"the bare consumer read {seen} of {records} records")
    return records / elapsed


def _consumer_rates(env: dict, bootstraps: str, records: int, folder: Path) -> tuple[float, float]:
    consumer_env = (
        env
        | TOPICS
        | {
            "KAFKA_SERVERS": json.dumps([bootstraps]),
            "SERVICE_NAME": "wps-bench",
            "KAFKA_CONSUMER_BATCH": str(BATCH),
        }
    )
    engine = create_engine(
        env["SQLALCHEMY_DATABASE_URI"].replace("postgresql://", "postgresql+psycopg2://", 1)
    )
    query = text(
        "SELECT count(*) FILTER (WHERE status = 'applied'), min(received_at), "
        "max(received_at), max(finished_at) FROM inbox_event WHERE topic = :topic"
    )
    subprocess.run(
        [*CELERY, "purge", "-f"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    with open(folder / "consumer.log", "w") as log:
        workers = subprocess.Popen(
            [*CELERY, "worker", "--concurrency", "2", "--loglevel", "WARNING", "--without-mingle"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "invoke", "consume-events"],
            cwd=ROOT,
            env=consumer_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                with engine.connect() as connection:
                    applied, first, last_stored, last_applied = connection.execute(
                        query, {"topic": TOPICS["DATASET_CHANGE_TOPIC"]}
                    ).one()
                if applied == records:
                    break
                if process.poll() is not None:
                    raise RuntimeError(f"the consumer exited; see {folder / 'consumer.log'}")
                time.sleep(0.2)
            else:
                raise RuntimeError(f"only {applied} of {records} events applied in time")
        finally:
            for child in (process, workers):
                child.terminate()
                child.wait(timeout=60)
            engine.dispose()
    stored = records / (last_stored - first).total_seconds()
    return stored, records / (last_applied - first).total_seconds()


def main() -> None:
    """`python -m benchmarks.kafka [DATABASE_URL]`: this figure alone."""
    from benchmarks import environment

    database_url = sys.argv[1] if len(sys.argv) > 1 else environment.DEFAULT_DATABASE_URL
    redis_url = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_REDIS_URL
    with tempfile.TemporaryDirectory(prefix="wps-bench-") as instance:
        env = environment.bench_environment(database_url, Path(instance), 5055)
        environment.fresh_database(database_url)
        environment.migrate(env)
        print(json.dumps(feed_figures(env, redis_url), indent=2))


if __name__ == "__main__":
    main()
