"""The clients of `invoke chaos` that speak HTTP or Kafka to the service: work order
tokens, dataset change events, and people signing in and reading pages.

Each runs in a thread of its own until `stopped` is set and tells a shared `Tally`
what it saw; the checks (devtools/chaos_checks.py) judge it once the kills are known.
"""

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from uuid import uuid4

import requests

RETRYABLE = {429, 502, 503, 504}
DATASET_TOPIC = "metadata-datasets"
HTTP_KEYS = [f"CHAOSH{n:02d}" for n in range(8)]
KAFKA_KEYS = [f"CHAOSK{n:02d}" for n in range(8)]
# The balancer names the API process that answered (nginx's $upstream_addr).
UPSTREAM_HEADER = "X-Chaos-Upstream"
PAUSE_BETWEEN_SIGN_INS = 2.0
PAUSE_BETWEEN_TOKENS = 0.05
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_DATASET_LINK = re.compile(r'href="(/catalog/[A-Za-z0-9]+)"')


@dataclass
class Tally:
    """What the clients saw."""

    requests: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    server_errors: list = field(default_factory=list)  # (kind, answered at, status)
    unanswered: list = field(default_factory=list)  # (kind, at, status): not retryable
    after_revocation: list = field(default_factory=list)
    # Journeys (a sign-in, a connector run) that failed: (kind, started, ended, why).
    # Whether one is retryable depends on the kill windows, known at the end.
    failed_runs: list = field(default_factory=list)
    journeys: Counter = field(default_factory=Counter)  # what the journeys achieved
    accepted_uploads: list = field(default_factory=list)  # (alias, size) the connector reported
    crashed: list = field(default_factory=list)  # clients that ended before the load did
    mismatches: list = field(default_factory=list)  # downloads that decrypted differently
    bounces: list = field(default_factory=list)  # (path, at): a signed-in page sent to sign-in
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, at: float, status, judged_by_run: bool = False) -> None:
        """One request's answer; `judged_by_run`: its journey is judged as a whole."""
        with self.lock:
            self.requests[kind] += 1
            self.outcomes[(kind, status)] += 1
            if isinstance(status, int) and status >= 500:
                # When it was answered counts: a request in flight when a process was
                # killed started before the kill and is answered inside its window.
                self.server_errors.append((kind, time.monotonic(), status))
            if judged_by_run:
                return
            answered = isinstance(status, str) or 200 <= status < 300 or status in RETRYABLE
            refused_as_revoked = kind == "wot-revoked" and status in (403, 404)
            if not (answered or refused_as_revoked):
                self.unanswered.append((kind, at, status))

    def failed(self, kind: str, started: float, why: str) -> None:
        with self.lock:
            self.failed_runs.append((kind, started, time.monotonic(), why[:300]))

    def count(self, what: str, number: int = 1) -> None:
        with self.lock:
            self.journeys[what] += number


def client_thread(tally: Tally, target, *args) -> threading.Thread:
    """`target(*args)` in a daemon thread; an exception that ends it early is a finding
    (its load stopped, and what it would have checked went unseen)."""

    def run() -> None:
        try:
            target(*args)
        except Exception as error:
            with tally.lock:
                tally.crashed.append(f"{target.__name__}: {error!r}"[:300])
            raise

    return threading.Thread(target=run, name=target.__name__, daemon=True)


def wot_client(base, package, kind, tally: Tally, stopped) -> None:
    url, token = package
    with requests.Session() as session:
        while not stopped.is_set():
            at = time.monotonic()
            try:
                status = session.post(
                    base + url, headers={"Authorization": f"Bearer {token}"}, timeout=30
                ).status_code
            except requests.RequestException as error:
                status = type(error).__name__
            tally.record(kind, at, status)
            if kind == "wot-revoked" and isinstance(status, int) and 200 <= status < 300:
                tally.after_revocation.append(at)
            # Paced: unpaced, four of these took both cores, and a killed process then
            # needed half the kill interval just to start again.
            time.sleep(PAUSE_BETWEEN_TOKENS if isinstance(status, int) and status < 300 else 0.2)


def dataset_event(key: str, version: int) -> dict:
    return {
        "accession": key, "title": f"version {version}", "stage": "download",
        "dac_alias": "DAC", "dac_email": "dac@example.org",
        "files": [{"accession": f"GHGAF{key}", "file_extension": ".bam"}],
    }  # fmt: skip


def http_events(base, feed_key, tally: Tally, sent, stopped) -> None:
    """Batches of one event per key, each batch retried with the same ids until taken."""
    version = 0
    with requests.Session() as session:
        while not stopped.is_set():
            version += 1
            batch = [
                {"event_id": f"http-{key}-{version}", "topic": DATASET_TOPIC,
                 "type": "dataset_upserted", "key": key, "payload": dataset_event(key, version)}
                for key in HTTP_KEYS
            ]  # fmt: skip
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                at = time.monotonic()
                try:
                    status = session.post(
                        f"{base}/events", json=batch, timeout=30,
                        headers={"Workflow-API-Key": feed_key},
                    ).status_code  # fmt: skip
                except requests.RequestException as error:
                    status = type(error).__name__
                tally.record("events", at, status)
                if isinstance(status, int) and 200 <= status < 300:
                    for key in HTTP_KEYS:
                        sent[key].append(version)
                    break
                time.sleep(0.5)
            time.sleep(0.3)


def kafka_events(bootstraps, sent, stopped) -> None:
    """Dataset events as hexkit publishes them, by an idempotent producer (in order)."""
    from confluent_kafka import Producer

    producer = Producer(
        {"bootstrap.servers": bootstraps, "enable.idempotence": True, "linger.ms": 5}
    )
    lock = threading.Lock()

    def delivered(error, message) -> None:
        if error is None:
            key = message.key().decode()
            with lock:
                sent[key].append(json.loads(message.value())["title"].split()[-1])

    version = 0
    while not stopped.is_set():
        version += 1
        for key in KAFKA_KEYS:
            producer.produce(
                DATASET_TOPIC,
                key=key,
                value=json.dumps(dataset_event(key, version)),
                headers=[
                    ("type", b"dataset_upserted"),
                    ("event_id", f"kafka-{key}-{version}".encode()),
                    ("correlation_id", str(uuid4()).encode()),
                ],
                on_delivery=delivered,
            )  # fmt: skip
        producer.poll(0)
        time.sleep(0.3)
    producer.flush(120)
    for key in sent:
        sent[key] = [int(version) for version in sent[key]]


class JourneyFailed(Exception):
    """A step answered what a person could not go on from."""


class Bounced(JourneyFailed):
    """A signed-in person was sent back to sign in: their session was not found."""


@dataclass(frozen=True)
class Reader:
    """A person at the provider. An `active` one has an account made beforehand, linked
    by the verified address at the first sign-in; a new one waits as pending."""

    sub: str
    active: bool


def sign_in_client(base, provider, readers: list[Reader], tally: Tally, stopped) -> None:
    """People one after the other: sign in, read pages, sign out. Every fourth is new
    to the service (its sign-in ends on the pending page, a valid end)."""
    number = 0
    while not stopped.is_set():
        number += 1
        started = time.monotonic()
        reader = readers[number % len(readers)]
        try:
            if number % 4 == 0:
                reader = _newcomer(provider, number)
            _journey(base, provider, reader, tally)
        except Bounced as error:
            tally.bounces.append((str(error), started))
        except (JourneyFailed, requests.RequestException, RuntimeError) as error:
            tally.failed("sign-in", started, f"{reader.sub}: {error}")
        stopped.wait(PAUSE_BETWEEN_SIGN_INS)


def _newcomer(provider, number: int) -> Reader:
    sub = f"newcomer-{number}-{uuid4().hex[:6]}"
    provider.person(sub, email=f"{sub}@chaos.example", email_verified=True, name=f"New {number}")
    return Reader(sub, active=False)


def _journey(base, provider, reader: Reader, tally: Tally) -> None:
    with requests.Session() as browser:
        browser.trust_env = False
        landed = _sign_in(browser, base, provider, reader.sub, tally)
        if not reader.active:
            status = _page(browser, base, landed.headers["Location"], tally)
            if "pending" not in status.text:
                raise JourneyFailed("a new person's status page does not say pending")
            tally.count("sign-ins (pending)")
            return
        tally.count("sign-ins (active)")
        # Which API process answered: a session made on one must be valid on the others.
        upstreams = {landed.headers.get(UPSTREAM_HEADER)}
        home = _page(browser, base, "/", tally)
        if 'action="/logout"' not in home.text:
            raise Bounced("/ showed the public page to a signed-in person")
        pages = [home, _page(browser, base, "/catalog", tally)]
        links = _DATASET_LINK.findall(pages[-1].text)
        # A dataset page asks for the second factor first: a redirect, not a sign-in.
        for path in [*links[:1], "/my-access", "/profile"]:
            pages.append(_page(browser, base, path, tally))
        upstreams |= {page.headers.get(UPSTREAM_HEADER) for page in pages}
        tally.count("pages read signed in", len(pages))
        if len(upstreams - {None}) > 1:
            tally.count("sessions read on 2+ API processes")
        _sign_out(browser, base, home.text, tally)


def _sign_in(browser, base, provider, sub: str, tally: Tally) -> requests.Response:
    """/login, the provider's authorization page, the callback: its redirect onwards."""
    at = time.monotonic()
    started = browser.get(f"{base}/login", params={"next": "/"}, allow_redirects=False, timeout=30)
    tally.record("sign-in", at, started.status_code, judged_by_run=True)
    if not started.is_redirect:
        raise JourneyFailed(f"/login answered {started.status_code}")
    back = provider.approve(started.headers["Location"], sub)
    at = time.monotonic()
    landed = browser.get(back, allow_redirects=False, timeout=30)
    tally.record("sign-in", at, landed.status_code, judged_by_run=True)
    if not landed.is_redirect:
        raise JourneyFailed(f"the sign-in callback answered {landed.status_code}")
    return landed


def _page(browser, base, path: str, tally: Tally) -> requests.Response:
    at = time.monotonic()
    page = browser.get(base + path, allow_redirects=False, timeout=30)
    tally.record("page", at, page.status_code, judged_by_run=True)
    if page.is_redirect and "/login" in page.headers["Location"]:
        raise Bounced(f"{path} sent a signed-in person to sign in")
    if page.status_code >= 400:
        raise JourneyFailed(f"{path} answered {page.status_code}")
    return page


def _sign_out(browser, base, page_text: str, tally: Tally) -> None:
    """The page's sign-out form; afterwards no API process knows the session."""
    token = _CSRF.search(page_text)
    if token is None:
        raise JourneyFailed("no sign-out form on the page")
    at = time.monotonic()
    out = browser.post(
        f"{base}/logout", data={"csrf_token": token.group(1)}, allow_redirects=False, timeout=30
    )
    tally.record("sign-out", at, out.status_code, judged_by_run=True)
    if not out.is_redirect:
        raise JourneyFailed(f"/logout answered {out.status_code}")
    at = time.monotonic()
    after = browser.get(f"{base}/catalog", allow_redirects=False, timeout=30)
    tally.record("page", at, after.status_code, judged_by_run=True)
    if not (after.is_redirect and "/login" in after.headers["Location"]):
        raise JourneyFailed(f"/catalog answered {after.status_code} after signing out")
    tally.count("sign-outs")
