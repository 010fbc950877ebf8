"""A Kafka-protocol broker (tests, benchmarks): librdkafka's mock cluster in its own process.

No Kafka server package is reachable from our machines, but the librdkafka that
the confluent-kafka wheel bundles contains a mock cluster that speaks the Kafka
protocol (produce, fetch, consumer groups, offset commits) on real TCP ports, so
any client (aiokafka under hexkit's publisher, confluent-kafka in our consumer)
talks to it as to a broker. It lives as long as the librdkafka handle that
created it, so this process keeps that handle until it is killed.

    python -m devtools.kafka_mock_broker [--brokers 1] [--topic NAME:PARTITIONS ...]

prints the bootstrap address on its first line, then creates a topic for every
`NAME PARTITIONS` line read from standard input (answering `created NAME`), takes
broker N down or up again for `down N` and `up N` (answering `down N`, `up N`), and
stays until killed. Topics a client publishes to are also created on first use
(with 4 partitions), but a consumer subscribing to a topic that does not exist yet
would not see it for minutes, hence the explicit creation.
"""

import argparse
import ctypes
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import confluent_kafka

RD_KAFKA_PRODUCER = 0
ROOT = Path(__file__).resolve().parent.parent


def bundled_librdkafka() -> ctypes.CDLL:
    """The librdkafka shipped inside the confluent-kafka wheel (not a system one)."""
    package = Path(confluent_kafka.__file__).resolve().parent
    candidates = sorted(package.parent.glob("confluent_kafka.libs/librdkafka*.so*"))
    candidates += sorted(package.glob("**/librdkafka*.so*"))
    if not candidates:
        raise RuntimeError(f"no bundled librdkafka next to {package}")
    library = ctypes.CDLL(str(candidates[0]))
    library.rd_kafka_conf_new.restype = ctypes.c_void_p
    library.rd_kafka_conf_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    library.rd_kafka_conf_set.argtypes += [ctypes.c_char_p, ctypes.c_size_t]
    library.rd_kafka_new.restype = ctypes.c_void_p
    library.rd_kafka_new.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p]
    library.rd_kafka_new.argtypes += [ctypes.c_size_t]
    library.rd_kafka_mock_cluster_new.restype = ctypes.c_void_p
    library.rd_kafka_mock_cluster_new.argtypes = [ctypes.c_void_p, ctypes.c_int]
    library.rd_kafka_mock_cluster_bootstraps.restype = ctypes.c_char_p
    library.rd_kafka_mock_cluster_bootstraps.argtypes = [ctypes.c_void_p]
    library.rd_kafka_mock_topic_create.restype = ctypes.c_int
    library.rd_kafka_mock_topic_create.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    library.rd_kafka_mock_topic_create.argtypes += [ctypes.c_int, ctypes.c_int]
    for switch in (library.rd_kafka_mock_broker_set_down, library.rd_kafka_mock_broker_set_up):
        switch.restype = ctypes.c_int
        switch.argtypes = [ctypes.c_void_p, ctypes.c_int32]
    return library


class MockCluster:
    """A mock cluster owned by this process; `bootstraps` is what clients connect to."""

    def __init__(self, brokers: int = 1):
        self._library = bundled_librdkafka()
        error = ctypes.create_string_buffer(512)
        conf = self._library.rd_kafka_conf_new()
        # The handle only hosts the cluster: its notice about having no brokers is noise.
        self._library.rd_kafka_conf_set(conf, b"log_level", b"3", error, len(error))
        self._handle = self._library.rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, len(error))
        if not self._handle:
            raise RuntimeError(f"rd_kafka_new failed: {error.value.decode()}")
        self._cluster = self._library.rd_kafka_mock_cluster_new(self._handle, brokers)
        if not self._cluster:
            raise RuntimeError("rd_kafka_mock_cluster_new failed")
        self.bootstraps = self._library.rd_kafka_mock_cluster_bootstraps(self._cluster).decode()

    def create_topic(self, name: str, partitions: int) -> None:
        code = self._library.rd_kafka_mock_topic_create(self._cluster, name.encode(), partitions, 1)
        if code != 0:
            raise RuntimeError(f"could not create topic {name}: error {code}")

    def set_broker(self, broker_id: int, up: bool) -> None:
        """librdkafka's fault injection: the broker closes its connections and refuses
        new ones while down; its log (the topics' records) stays."""
        switch = (
            self._library.rd_kafka_mock_broker_set_up
            if up
            else (self._library.rd_kafka_mock_broker_set_down)
        )
        if switch(self._cluster, broker_id) != 0:
            raise RuntimeError(f"could not set broker {broker_id} {'up' if up else 'down'}")


def _topic(text: str) -> tuple[str, int]:
    name, _, partitions = text.partition(":")
    return name, int(partitions or 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", type=int, default=1)
    parser.add_argument("--topic", type=_topic, action="append", default=[])
    options = parser.parse_args(argv)
    cluster = MockCluster(options.brokers)
    for name, partitions in options.topic:
        cluster.create_topic(name, partitions)
    print(cluster.bootstraps, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    for line in sys.stdin:
        name, argument = line.split()
        if name in ("down", "up"):
            cluster.set_broker(int(argument), up=name == "up")
            print(f"{name} {argument}", flush=True)
            continue
        cluster.create_topic(name, int(argument))
        print(f"created {name}", flush=True)
    while True:  # no more commands (stdin closed): serve until killed
        signal.pause()


class BrokerProcess:
    """The broker running as a child process of the caller."""

    def __init__(self, process: subprocess.Popen, bootstraps: str):
        self._process = process
        self.bootstraps = bootstraps

    def create_topics(self, *names: str, partitions: int = 3) -> None:
        for name in names:
            self._process.stdin.write(f"{name} {partitions}\n")
            self._process.stdin.flush()
            answer = self._process.stdout.readline().strip()
            if answer != f"created {name}":
                raise RuntimeError(f"the mock broker did not create {name}: {answer!r}")

    def set_broker(self, broker_id: int, up: bool) -> None:
        command = f"{'up' if up else 'down'} {broker_id}"
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline().strip()
        if answer != command:
            raise RuntimeError(f"the mock broker did not take {command!r}: {answer!r}")


@contextmanager
def mock_broker(log_path: Path):
    """Run the broker as a child process until the block ends."""
    command = [sys.executable, "-m", "devtools.kafka_mock_broker"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
        try:
            bootstraps = process.stdout.readline().strip()
            if not bootstraps:
                raise RuntimeError(f"the mock broker did not start; see {log_path}")
            yield BrokerProcess(process, bootstraps)
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
