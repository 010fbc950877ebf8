"""Feeds: events through Kafka and `POST /events`, against floors measured in the same run.

The Kafka records come from librdkafka's mock cluster (as in the tests). Ours
(`invoke consume-events`) validates, stores in the inbox, commits offsets and hands
the keys to two Celery worker processes (Redis broker), which apply them a set at a
time (ADR 27). The floors, each in the same PostgreSQL and the same run:

- the bare consumer: confluent-kafka reading the same records, decoding each JSON;
- the COPY floor (for stored): a bare `COPY` of the same inbox rows, 500 a transaction;
- the upsert floor (for applied): a bare multi-row `INSERT … ON CONFLICT DO UPDATE` of
  the same dataset and file rows, 500 a transaction.

Our rates come from the inbox's own timestamps, so start-up and group joining are not
counted, as they are not for the bare consumer. Then: `POST /events` in batches of
500 (served by `invoke serve`), the time from publishing to applied at a steady
1,000 events/s, and the drain of a 100,000-event backlog with the workers' memory.
"""

import asyncio
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import psycopg2
import requests
from confluent_kafka import Consumer, Producer
from hexkit.providers.akafka import KafkaConfig, KafkaEventPublisher
from psycopg2.extras import execute_values
from sqlalchemy import create_engine, text

from benchmarks import environment
from benchmarks.environment import ROOT
from benchmarks.scale import process_memory_mib
from devtools.kafka_mock_broker import mock_broker

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
CELERY = [sys.executable, "-m", "celery", "-A", "workers.main"]
RECORDS = 5_000
# Consumer processes in one group (`--consumers N`; deploy/base/consumer.yaml runs two
# replicas) over topics of PARTITIONS partitions, so that two share them evenly. One by
# default: on two cores a second did not store faster (ADR 27).
CONSUMERS = 1
PARTITIONS = 4
KEYS = 1_000
BATCH = 500
STEADY_RATE = 1_000
STEADY_SECONDS = 15
BACKLOG = 100_000
API_PORT = 5056
TOPICS = {
    "DATASET_CHANGE_TOPIC": "bench-datasets",
    "UPLOAD_BOX_TOPIC": "bench-boxes",
    "ACCESSION_MAP_TOPIC": "bench-accessions",
}


def feed_figures(
    env: dict,
    redis_url: str,
    records: int = RECORDS,
    backlog: int = BACKLOG,
    profile_seconds: float = 0,
    consumers: int = CONSUMERS,
) -> dict:
    with (
        tempfile.TemporaryDirectory(prefix="wps-bench-kafka-") as folder,
        mock_broker(Path(folder) / "broker.log") as broker,
    ):
        broker.create_topics(*TOPICS.values(), partitions=PARTITIONS)
        _publish(broker.bootstraps, records)
        bare = _bare_rate(broker.bootstraps, records)
        copy_floor, upsert_floor, floor_cpu = _database_floors(
            env["SQLALCHEMY_DATABASE_URI"], records
        )
        env = env | TOPICS | {"CELERY_BROKER_URL": redis_url, "CELERY_ALWAYS_EAGER": "false"}
        _purge(env)
        log_folder = Path(folder)
        with _workers(env, log_folder) as workers:
            with _consumers(env, broker.bootstraps, log_folder, consumers) as group:
                _wait_stored(env, 1, group)
                profiler = _profile(group[0].pid, workers.pid, profile_seconds, log_folder)
                busy = _busy_cpu_seconds()
                stored, applied = _kafka_rates(env, group, records)
                busy = _busy_cpu_seconds() - busy
                profile = profiler()
                latency = _steady_latency(env, broker.bootstraps, group)
            http_stored, http_applied = _http_rates(env, records)
        drain = _drain(env, backlog, log_folder)
    return {
        "records": records,
        "keys": KEYS,
        "consumers": consumers,
        "partitions": PARTITIONS,
        "bare_consumer_per_second": round(bare, 1),
        "copy_floor_per_second": round(copy_floor, 1),
        "upsert_floor_per_second": round(upsert_floor, 1),
        "stored_per_second": round(stored, 1),
        "applied_per_second": round(applied, 1),
        "stored_ratio_to_copy": round(stored / copy_floor, 3),
        "applied_ratio_to_upsert": round(applied / upsert_floor, 3),
        # The whole machine's CPU (every process: ours, PostgreSQL, Redis, the broker)
        # per event from the first stored batch to the last applied event, against the
        # floors' (the benchmark's own process and PostgreSQL) per row.
        "cpu_us_per_event": round(1e6 * busy / records, 1),
        "cpu_us_per_row_copy_floor": round(1e6 * floor_cpu["copy"] / records, 1),
        "cpu_us_per_row_upsert_floor": round(1e6 * floor_cpu["upsert"] / records, 1),
        "stored_ratio": round(stored / bare, 3),
        "ratio": round(applied / bare, 3),
        "target_ratio_to_floor": 0.5,
        "target_ratio": 0.1,
        "http_batch": BATCH,
        "http_stored_per_second": round(http_stored, 1),
        "http_applied_per_second": round(http_applied, 1),
        "http_applied_ratio_to_upsert": round(http_applied / upsert_floor, 3),
        "steady_rate_per_second": STEADY_RATE,
        **latency,
        **drain,
        **({"profile": profile} if profile else {}),
    }


def median_feed_figures(env: dict, redis_url: str, runs: int = 3, **options) -> dict:
    """`feed_figures` `runs` times; each figure the median of its runs (a ratio is the
    median of the runs' ratios, each against its own run's floor). The profile, if
    asked for, is taken in the last run; the drain's memory is the median run's."""
    profile_seconds = options.pop("profile_seconds", 0)
    results = []
    for n in range(runs):
        if n:  # each run on an empty inbox and catalog, as the first
            environment.fresh_database(env["SQLALCHEMY_DATABASE_URI"])
            environment.migrate(env)
        last = profile_seconds if n == runs - 1 else 0
        results.append(feed_figures(env, redis_url, profile_seconds=last, **options))
    middle = sorted(results, key=lambda r: r["applied_ratio_to_upsert"])[len(results) // 2]
    figures = {}
    for name, value in middle.items():
        values = [r[name] for r in results if name in r]
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        figures[name] = round(statistics.median(values), 3) if numbers else value
    if profile_seconds:
        figures["profile"] = results[-1].get("profile")
    by_run = (
        "stored_ratio_to_copy",
        "applied_ratio_to_upsert",
        "ratio",
        "publish_to_applied_p99_ms",
    )
    return (
        figures | {"runs": runs} | {f"{name}_by_run": [r[name] for r in results] for name in by_run}
    )


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


def _record_value(accession: str, version: int) -> bytes:
    return json.dumps(_payload(accession, version)).encode()


def _produce(bootstraps: str, items, rate: float | None = None) -> dict[str, float]:
    """(accession, version) pairs as hexkit publishes them (key, JSON value, `type`,
    `event_id` and `correlation_id` headers), at `rate` per second if given; returns
    each event id's send time."""
    producer = Producer({"bootstrap.servers": bootstraps, "linger.ms": 5})
    sent: dict[str, float] = {}
    started = time.monotonic()
    for n, (accession, version) in enumerate(items):
        if rate is not None:
            pause = started + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        event_id = str(uuid4())
        while True:
            try:
                producer.produce(
                    TOPICS["DATASET_CHANGE_TOPIC"],
                    key=accession.encode(),
                    value=_record_value(accession, version),
                    headers=[
                        ("type", b"dataset_upserted"),
                        ("event_id", event_id.encode()),
                        ("correlation_id", str(uuid4()).encode()),
                    ],
                )
                break
            except BufferError:
                producer.poll(0.05)
        sent[event_id] = time.time()
        producer.poll(0)
    producer.flush(60)
    return sent


def _busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent outside idle and I/O wait (/proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(n) for n in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _database_floors(database_url: str, records: int) -> tuple[float, float, dict]:
    """Rows per second of a bare COPY of the inbox rows and of a bare multi-row upsert
    of the catalog rows, 500 rows a transaction, into copies of the same tables; and
    the machine's CPU seconds each took."""
    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            for table in ("inbox_event", "dataset", "dataset_file"):
                cursor.execute(f"DROP TABLE IF EXISTS floor_{table}")
                cursor.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
        connection.commit()
        batches = [range(start, min(start + BATCH, records)) for start in range(0, records, BATCH)]
        now = datetime.now(UTC).isoformat()
        busy = _busy_cpu_seconds()
        started = time.perf_counter()
        for batch in batches:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for n in batch:
                accession = f"BENCHKDS{n % KEYS:05d}"
                writer.writerow(
                    [f"floor-{n}", TOPICS["DATASET_CHANGE_TOPIC"], "dataset_upserted",
                     accession, json.dumps(_payload(accession, n // KEYS)), "pending", 0, now,
                     now, "kafka floor"]
                )  # fmt: skip
            buffer.seek(0)
            with connection.cursor() as cursor:
                cursor.copy_expert(
                    "COPY floor_inbox_event (event_id, topic, type, key, payload, status, "
                    "attempts, received_at, next_attempt_at, received_from) FROM STDIN "
                    "WITH (FORMAT csv)",
                    buffer,
                )
            connection.commit()
        copy_rate = records / (time.perf_counter() - started)
        cpu = {"copy": _busy_cpu_seconds() - busy}
        busy = _busy_cpu_seconds()
        started = time.perf_counter()
        for batch in batches:
            datasets, files = [], []
            for n in batch:
                payload = _payload(f"BENCHKDS{n % KEYS:05d}", n // KEYS)
                datasets.append(
                    (payload["accession"], payload["title"], payload["description"],
                     payload["stage"], payload["dac_alias"], payload["dac_email"], now)
                )  # fmt: skip
                files += [
                    (payload["accession"], f["accession"], i, f["file_extension"], f["description"])
                    for i, f in enumerate(payload["files"])
                ]
            with connection.cursor() as cursor:
                execute_values(
                    cursor,
                    "INSERT INTO floor_dataset (accession, title, description, stage, dac_alias, "
                    "dac_email, updated_at) VALUES %s ON CONFLICT (accession) DO UPDATE SET "
                    "title = excluded.title, description = excluded.description, "
                    "stage = excluded.stage, dac_alias = excluded.dac_alias, "
                    "dac_email = excluded.dac_email, updated_at = excluded.updated_at",
                    datasets,
                    page_size=BATCH,
                )
                execute_values(
                    cursor,
                    "INSERT INTO floor_dataset_file (dataset_accession, accession, position, "
                    "extension, description) VALUES %s ON CONFLICT (dataset_accession, accession) "
                    "DO UPDATE SET position = excluded.position, extension = excluded.extension, "
                    "description = excluded.description",
                    files,
                    page_size=BATCH,
                )
            connection.commit()
        upsert_rate = records / (time.perf_counter() - started)
        cpu["upsert"] = _busy_cpu_seconds() - busy
        with connection.cursor() as cursor:
            for table in ("inbox_event", "dataset", "dataset_file"):
                cursor.execute(f"DROP TABLE floor_{table}")
        connection.commit()
    finally:
        connection.close()
    return copy_rate, upsert_rate, cpu


def _purge(env: dict) -> None:
    subprocess.run([*CELERY, "purge", "-f"], cwd=ROOT, env=env, check=True, capture_output=True)


@contextmanager
def _workers(env: dict, folder: Path):
    with open(folder / "workers.log", "a") as log:
        process = subprocess.Popen(
            [*CELERY, "worker", "--concurrency", "2", "--loglevel", "WARNING", "--without-mingle"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=60)


@contextmanager
def _consumers(env: dict, bootstraps: str, folder: Path, count: int):
    """`count` processes of `invoke consume-events` in one consumer group."""
    consumer_env = env | {
        "KAFKA_SERVERS": json.dumps([bootstraps]),
        "SERVICE_NAME": "wps-bench",
        "KAFKA_CONSUMER_BATCH": str(BATCH),
    }
    group = []
    with open(folder / "consumer.log", "a") as log:
        try:
            for _ in range(count):
                group.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "invoke", "consume-events"],
                        cwd=ROOT,
                        env=consumer_env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            yield group
        finally:
            for process in group:
                process.terminate()
            for process in group:
                process.wait(timeout=60)


def _engine(env: dict):
    return create_engine(
        env["SQLALCHEMY_DATABASE_URI"].replace("postgresql://", "postgresql+psycopg2://", 1)
    )


def _wait_applied(engine, after_id: int, count: int, seconds: float, group=()):
    """Until `count` events with an id above `after_id` are finished; their timestamps."""
    query = text(
        "SELECT count(*) FILTER (WHERE status IN ('applied', 'skipped')), count(*), "
        "min(received_at), max(received_at), max(finished_at) FROM inbox_event WHERE id > :id"
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            finished, stored, first, last_stored, last_applied = connection.execute(
                query, {"id": after_id}
            ).one()
        if finished >= count:
            return first, last_stored, last_applied
        if any(process.poll() is not None for process in group):
            raise RuntimeError("a consumer exited; see its log")
        time.sleep(0.2)
    raise RuntimeError(f"only {finished} of {count} events applied in time ({stored} stored)")


def _wait_stored(env: dict, count: int, group) -> None:
    engine = _engine(env)
    try:
        while _last_id(engine) < count:
            if any(process.poll() is not None for process in group):
                raise RuntimeError("a consumer exited; see its log")
            time.sleep(0.05)
    finally:
        engine.dispose()


def _last_id(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT coalesce(max(id), 0) FROM inbox_event"))


def _stored_rate(engine, after_id: int, records: int, first, last) -> float:
    """A batch's `received_at` is taken as its storing starts: from the first batch's to
    the last one's, every batch but the last was stored, so the last is not counted."""
    with engine.connect() as connection:
        last_batch = connection.scalar(
            text("SELECT count(*) FROM inbox_event WHERE id > :id AND received_at = :last"),
            {"id": after_id, "last": last},
        )
    return (records - last_batch) / (last - first).total_seconds()


def _kafka_rates(env: dict, group, records: int) -> tuple[float, float]:
    engine = _engine(env)
    try:
        first, last_stored, last_applied = _wait_applied(engine, 0, records, 900, group)
        stored = _stored_rate(engine, 0, records, first, last_stored)
    finally:
        engine.dispose()
    return stored, records / (last_applied - first).total_seconds()


def _steady_latency(env: dict, bootstraps: str, group) -> dict:
    """Publish at STEADY_RATE for STEADY_SECONDS; each event's publish-to-applied time."""
    engine = _engine(env)
    try:
        after = _last_id(engine)
        count = STEADY_RATE * STEADY_SECONDS
        items = ((f"STEADY{n % KEYS:05d}", n // KEYS) for n in range(count))
        sent = _produce(bootstraps, items, rate=STEADY_RATE)
        _wait_applied(engine, after, count, 300, group)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT event_id, finished_at FROM inbox_event WHERE id > :id"),
                {"id": after},
            ).all()
    finally:
        engine.dispose()
    latencies = sorted(finished.timestamp() - sent[event_id] for event_id, finished in rows)
    return {
        "steady_seconds": STEADY_SECONDS,
        "publish_to_applied_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "publish_to_applied_p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 1),
        "target_p99_ms": 1000,
    }


def _http_events(prefix: str, count: int) -> list[dict]:
    return [
        {
            "event_id": f"{prefix}-{n}",
            "topic": TOPICS["DATASET_CHANGE_TOPIC"],
            "type": "dataset_upserted",
            "key": f"{prefix}{n % KEYS:05d}",
            "payload": _payload(f"{prefix}{n % KEYS:05d}", n // KEYS),
        }
        for n in range(count)
    ]


def _post_events(env: dict, events: list[dict]) -> None:
    """`POST /events`, BATCH events a request, one client, on `invoke serve`."""
    key = _publisher_key(env)
    with (
        environment.api_server(env, API_PORT, workers=2, threads=2),
        requests.Session() as session,
    ):
        for start in range(0, len(events), BATCH):
            response = session.post(
                f"http://127.0.0.1:{API_PORT}/events",
                json=events[start : start + BATCH],
                headers={"Workflow-API-Key": key},
                timeout=120,
            )
            response.raise_for_status()


def _http_rates(env: dict, records: int) -> tuple[float, float]:
    """`POST /events` in batches of BATCH while the workers run; rates from the inbox."""
    engine = _engine(env)
    try:
        after = _last_id(engine)
        _post_events(env, _http_events("HTTPDS", records))
        first, last_stored, last_applied = _wait_applied(engine, after, records, 900)
        stored = _stored_rate(engine, after, records, first, last_stored)
    finally:
        engine.dispose()
    return stored, records / (last_applied - first).total_seconds()


def _publisher_key(env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "create-application-key", "--name",
         f"bench-{uuid4()}", "--permission", "FEED_PUBLISHER"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    lines = [line for line in result.stdout.splitlines() if line.startswith("API_TOKEN=")]
    return lines[-1].split("=", 1)[1]


def _drain(env: dict, backlog: int, folder: Path) -> dict:
    """A backlog stored while no worker runs (through `POST /events`: the mock broker
    keeps too few records per partition for it), then drained by two workers: the
    time and the workers' memory."""
    if not backlog:
        return {}
    engine = _engine(env)
    try:
        after = _last_id(engine)
        _purge(env)
        _post_events(env, _http_events("DRAIN", backlog))
        # The workers' memory at each quarter of the drain (after their start-up).
        memory: dict[int, float] = {}
        started = time.monotonic()
        with _workers(env, folder) as workers:
            query = text("SELECT count(*) FROM inbox_event WHERE id > :id AND status = 'pending'")
            while time.monotonic() - started < 1800:
                time.sleep(0.25)
                with engine.connect() as connection:
                    pending = connection.scalar(query, {"id": after})
                done = 4 * (backlog - pending) // backlog
                if done >= 1 and done not in memory:
                    memory[done] = process_memory_mib(workers.pid)
                if pending == 0:
                    break
            drained = time.monotonic() - started
        _purge(env)  # tasks for keys already drained: nothing for the next user of the queue
    finally:
        engine.dispose()
    return {
        "backlog": backlog,
        "drain_seconds": round(drained, 1),
        "drain_per_second": round(backlog / drained, 1),
        "worker_memory_mib_by_quarter": [memory.get(q) for q in (1, 2, 3, 4)],
    }


def _profile(consumer_pid: int, workers_pid: int, seconds: float, folder: Path):
    """py-spy on the consumer and the workers while the Kafka figure runs (if asked);
    returns a function that waits for it and summarises where the time went."""
    if not seconds:
        return lambda: None
    from benchmarks.profile import record, summary

    recordings = [
        record(consumer_pid, folder / "consumer.raw", seconds, idle=True),
        record(workers_pid, folder / "workers.raw", seconds, subprocesses=True),
    ]

    def finish() -> dict:
        for process in recordings:
            process.wait()
        return {
            "seconds": seconds,
            "consumer": summary(folder / "consumer.raw"),
            "workers": summary(folder / "workers.raw"),
        }

    return finish


def main() -> None:
    """`python -m benchmarks.kafka [DATABASE_URL [REDIS_URL [PROFILE_SECONDS]]] [--runs N]
    [--consumers N] [--record]`: the feed figures alone (medians of N runs, 3 by
    default; N consumer processes, 1 by default); `--record` writes them into
    docs/benchmarks.md."""

    from benchmarks import run

    runs, consumers = 3, CONSUMERS
    if "--consumers" in sys.argv:
        consumers = int(sys.argv[sys.argv.index("--consumers") + 1])
        sys.argv[sys.argv.index("--consumers") : sys.argv.index("--consumers") + 2] = []
    if "--runs" in sys.argv:
        runs = int(sys.argv[sys.argv.index("--runs") + 1])
        sys.argv[sys.argv.index("--runs") : sys.argv.index("--runs") + 2] = []
    arguments = [a for a in sys.argv[1:] if a != "--record"]
    database_url = arguments[0] if arguments else environment.DEFAULT_DATABASE_URL
    redis_url = arguments[1] if len(arguments) > 1 else DEFAULT_REDIS_URL
    profile = float(arguments[2]) if len(arguments) > 2 else 0
    load = [round(value, 2) for value in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="wps-bench-") as instance:
        env = environment.bench_environment(database_url, Path(instance), 5055)
        environment.fresh_database(database_url)
        environment.migrate(env)
        figures = {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average": load,
            **median_feed_figures(
                env, redis_url, runs, profile_seconds=profile, consumers=consumers
            ),
        }
    print(json.dumps(figures, indent=2))
    if "--record" in sys.argv:
        print(run.record_feeds(figures))


if __name__ == "__main__":
    main()
