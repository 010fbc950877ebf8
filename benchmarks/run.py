"""Run every benchmark, print a table and write the figures as JSON."""

import json
import os
import platform
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import environment, kafka, scale, transfer, wot_issuance
from benchmarks.load import run_wrk, wrk_available

RESULTS = environment.ROOT / "bench-results"
MiB = 1024 * 1024
TRANSFER_SIZE = 128 * MiB
UPLOAD_BODY = '{"work_type": "upload", "file_id": "5c0ffee0-1d9e-4c2b-9a4e-0d2f6f1b7a11"}'


def run(
    database_url: str,
    port: int,
    seconds: int,
    connections: int,
    workers: int,
    threads: int,
    runs: int = 3,
    load_seconds: int = 60,
    big_table: int = 1_000_000,
    redis_url: str = kafka.DEFAULT_REDIS_URL,
) -> dict:
    if not wrk_available() or not shutil.which("curl"):
        raise SystemExit("wrk and curl are needed for the load figures: apt-get install wrk curl")
    with tempfile.TemporaryDirectory(prefix="wps-bench-") as instance:
        env = environment.bench_environment(database_url, Path(instance), port)
        environment.fresh_database(database_url)
        environment.migrate(env)
        app = _app(env)
        seeded = wot_issuance.seed_download_package(app)
        upload = wot_issuance.seed_upload_package(app)
        stored = transfer.seed_stored_file(app, TRANSFER_SIZE)
        bare_decryption, verification = transfer.verification_figures(app, TRANSFER_SIZE)
        big = scale.seed_big_dataset(app)
        scale.fill_work_packages(app, 1_000)
        base = f"http://127.0.0.1:{port}"
        download_url = (
            f"{base}/work-packages/{seeded.package_id}/files/{seeded.accession}/work-order-tokens"
        )
        upload_url = (
            f"{base}/work-packages/{upload.package_id}/boxes/{upload.box_id}/work-order-tokens"
        )
        headers = {"Authorization": f"Bearer {seeded.access_token}"}
        upload_headers = {
            "Authorization": f"Bearer {upload.access_token}",
            "Content-Type": "application/json",
        }

        def download_load(length: int):
            return run_wrk(download_url, "POST", headers, connections, length)

        def upload_load(length: int):
            return run_wrk(upload_url, "POST", upload_headers, connections, length, UPLOAD_BODY)

        with environment.api_server(env, port, workers, threads) as server:
            signed_url, static_floor = transfer.download_figures(app, stored, workers)
            download_load(2)  # warm-up
            upload_load(2)
            # Interleaved, so that a burst of load elsewhere hits both alike.
            loads, upload_loads, floors = [], [], []
            for _ in range(runs):
                floors.append(wot_issuance.crypto_floor_per_second(app))
                loads.append(download_load(seconds))
                upload_loads.append(upload_load(seconds))
            small_table = download_load(seconds)
            creation_ms = scale.package_creation_ms(base, big)
            memory_start = scale.process_memory_mib(server.pid)
            long_run = download_load(load_seconds)
            memory_end = scale.process_memory_mib(server.pid)
            scale.fill_work_packages(app, big_table)
            download_load(2)  # warm-up after the bulk insert
            large_table = download_load(seconds)
        with environment.framework_floor_server(env, port, workers, threads):
            floor_url = f"{base}/floor"
            run_wrk(floor_url, "GET", {}, connections, 2)
            framework = [run_wrk(floor_url, "GET", {}, connections, seconds) for _ in range(runs)]
        feed = kafka.median_feed_figures(env, redis_url, runs)
    floor = sorted(floors)[len(floors) // 2]
    load, upload_load_result, framework_floor = (
        _median(results) for results in (loads, upload_loads, framework)
    )
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "server": {
            "command": "invoke serve (granian, WSGI)",
            "workers": workers,
            "threads": threads,
            "connections": connections,
        },
        "wot_issuance": {
            **_load_figures(load, loads),
            "runs": runs,
            "crypto_floor_per_second_one_core": round(floor, 1),
            "crypto_floors_per_second": [round(f, 1) for f in floors],
            "ratio_to_floor": round(load.requests_per_second / floor, 3),
            "target_ratio": 0.35,
            "ratio_to_framework_floor": round(
                load.requests_per_second / framework_floor.requests_per_second, 3
            ),
        },
        "upload_wot_issuance": {
            **_load_figures(upload_load_result, upload_loads),
            "body": UPLOAD_BODY,
            "ratio_to_floor": round(upload_load_result.requests_per_second / floor, 3),
        },
        "framework_floor": {
            "route": "a trivial Flask route (benchmarks/floor_app.py), same server and workers",
            **_load_figures(framework_floor, framework),
        },
        "kafka_feed": feed,
        "cost_against_size": {
            "p50_ms_with_1k_packages": small_table.p50_ms,
            "p50_ms_with_many_packages": large_table.p50_ms,
            "packages": big_table,
            "change": round(large_table.p50_ms / small_table.p50_ms - 1, 3),
            "target_change": 0.15,
        },
        "package_for_10000_files_ms": {"median": round(creation_ms, 1), "target": 200},
        "long_load": {
            "seconds": load_seconds,
            "requests": long_run.requests,
            "errors": long_run.errors,
            "rate_per_second": round(long_run.requests_per_second, 1),
            "memory_mib_start": round(memory_start, 1),
            "memory_mib_end": round(memory_end, 1),
        },
        "download": {
            "size_mib": TRANSFER_SIZE // MiB,
            "static_server_mb_per_second": round(static_floor, 1),
            "static_server": f"nginx, sendfile on, {workers} worker processes",
            "signed_url_mb_per_second": round(signed_url, 1),
            "ratio": round(signed_url / static_floor, 3),
            "target_ratio": 0.5,
        },
        "upload_verification": {
            "size_mib": TRANSFER_SIZE // MiB,
            "bare_decryption_mb_per_second": round(bare_decryption, 1),
            "verification_mb_per_second": round(verification, 1),
            "ratio": round(verification / bare_decryption, 3),
            "target_ratio": 0.5,
        },
    }


def _median(results: list):
    """The run with the median rate (the machines are shared and noisy)."""
    return sorted(results, key=lambda result: result.requests_per_second)[len(results) // 2]


def _load_figures(median, results: list) -> dict:
    return {
        "rate_per_second": round(median.requests_per_second, 1),
        "p50_ms": median.p50_ms,
        "p99_ms": median.p99_ms,
        "requests": median.requests,
        "errors": sum(result.errors for result in results),
        "rates_per_second": [round(r.requests_per_second, 1) for r in results],
    }


def _app(env: dict):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        from app import create_app

        return create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def table(figures: dict) -> str:
    wot, upload = figures["wot_issuance"], figures["upload_wot_issuance"]
    framework = figures["framework_floor"]
    verdict = "holds" if wot["ratio_to_floor"] >= wot["target_ratio"] else "MISSED"
    latency = "holds" if wot["p99_ms"] < 50 else "MISSED"
    rows = [
        ("figure", "value", "target"),
        ("WOT issuance rate (download)", f"{wot['rate_per_second']:.0f}/s", ""),
        ("WOT p50 / p99", f"{wot['p50_ms']:.1f} / {wot['p99_ms']:.1f} ms",
         f"p99 < 50 ms ({latency})"),
        ("sign+seal floor (one core)", f"{wot['crypto_floor_per_second_one_core']:.0f}/s", ""),
        ("ratio to sign+seal floor", f"{wot['ratio_to_floor']:.3f}",
         f">= {wot['target_ratio']} ({verdict})"),
        ("errors", str(wot["errors"]), "0"),
        ("framework floor (trivial route)", f"{framework['rate_per_second']:.0f}/s", ""),
        ("WOT ratio to framework floor", f"{wot['ratio_to_framework_floor']:.3f}", ""),
        (
            "upload WOT rate, p99",
            f"{upload['rate_per_second']:.0f}/s, {upload['p99_ms']:.1f} ms",
            f"{upload['errors']} errors",
        ),
        ("upload WOT ratio to sign+seal floor", f"{upload['ratio_to_floor']:.3f}", ""),
    ]  # fmt: skip
    size = figures["cost_against_size"]
    size_held = "holds" if abs(size["change"]) <= size["target_change"] else "MISSED"
    creation = figures["package_for_10000_files_ms"]
    creation_held = "holds" if creation["median"] < creation["target"] else "MISSED"
    long_load = figures["long_load"]
    rows += [
        (
            f"WOT p50, 1k vs {size['packages']:,} packages",
            f"{size['p50_ms_with_1k_packages']:.1f} vs {size['p50_ms_with_many_packages']:.1f} ms",
            f"within 15% ({size_held})",
        ),
        ("package for 10,000 files", f"{creation['median']:.0f} ms", f"< 200 ms ({creation_held})"),
        (
            f"{long_load['seconds']} s load: errors, memory",
            f"{long_load['errors']} errors, {long_load['memory_mib_start']:.0f} -> "
            f"{long_load['memory_mib_end']:.0f} MiB",
            "0 errors",
        ),
    ]
    for name, key, fast, floor in (
        ("download via signed URL vs nginx", "download", "signed_url_mb_per_second",
         "static_server_mb_per_second"),
        ("upload verification", "upload_verification", "verification_mb_per_second",
         "bare_decryption_mb_per_second"),
    ):  # fmt: skip
        figure = figures[key]
        held = "holds" if figure["ratio"] >= figure["target_ratio"] else "MISSED"
        rows.append(
            (
                f"{name} ({figure['size_mib']} MiB)",
                f"{figure[fast]:.0f} vs {figure[floor]:.0f} MB/s = {figure['ratio']:.2f}",
                f">= {figure['target_ratio']} ({held})",
            )
        )
    feed = figures.get("kafka_feed")
    if feed and "copy_floor_per_second" in feed:
        rows += feed_rows(feed)
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join("  ".join(cell.ljust(width[i]) for i, cell in enumerate(row)) for row in rows)


def feed_rows(feed: dict) -> list[tuple[str, str, str]]:
    def held(ratio: float, target: float) -> str:
        return f">= {target} ({'holds' if ratio >= target else 'MISSED'})"

    def held_below(value: float, target: float) -> str:
        return "(holds)" if value < target else "(MISSED)"

    floor, goal = feed["target_ratio_to_floor"], feed["target_ratio"]
    upsert = feed["upsert_floor_per_second"]
    rows = [
        (
            f"Kafka: {feed['records']:,} events stored vs COPY"
            + (f" ({feed['consumers']} consumers)" if feed.get("consumers", 1) > 1 else ""),
            f"{feed['stored_per_second']:.0f} vs {feed['copy_floor_per_second']:.0f}/s"
            f" = {feed['stored_ratio_to_copy']:.3f}",
            held(feed["stored_ratio_to_copy"], floor),
        ),
        (
            "Kafka: applied vs bare upsert",
            f"{feed['applied_per_second']:.0f} vs {upsert:.0f}/s"
            f" = {feed['applied_ratio_to_upsert']:.3f}",
            held(feed["applied_ratio_to_upsert"], floor),
        ),
        (
            "Kafka: applied vs bare consumer",
            f"{feed['applied_per_second']:.0f} vs {feed['bare_consumer_per_second']:.0f}/s"
            f" = {feed['ratio']:.3f}",
            held(feed["ratio"], goal),
        ),
        (
            f"POST /events ({feed['http_batch']} a request): stored, applied",
            f"{feed['http_stored_per_second']:.0f}, {feed['http_applied_per_second']:.0f}/s"
            f" = {feed['http_applied_ratio_to_upsert']:.3f} of upsert",
            held(feed["http_applied_ratio_to_upsert"], floor),
        ),
        (
            f"publish to applied at {feed['steady_rate_per_second']:,}/s: p50 / p99",
            f"{feed['publish_to_applied_p50_ms']:.0f} / {feed['publish_to_applied_p99_ms']:.0f} ms",
            f"p99 < {feed['target_p99_ms']} ms "
            + held_below(feed["publish_to_applied_p99_ms"], feed["target_p99_ms"]),
        ),
    ]
    if "cpu_us_per_event" in feed:
        rows.append(
            (
                "machine CPU: per event stored and applied; floors",
                f"{feed['cpu_us_per_event']:.0f} µs; COPY {feed['cpu_us_per_row_copy_floor']:.0f}"
                f" + upsert {feed['cpu_us_per_row_upsert_floor']:.0f} µs a row",
                "(what 2 cores allow)",
            )
        )
    if "drain_seconds" in feed:
        rows.append(
            (
                f"drain of {feed['backlog']:,} events; workers' memory by quarter",
                f"{feed['drain_seconds']:.0f} s ({feed['drain_per_second']:.0f}/s); "
                + " / ".join(f"{m or 0:.0f}" for m in feed["worker_memory_mib_by_quarter"])
                + " MiB",
                "flat memory",
            )
        )
    return rows


def feeds_section(feed: dict) -> str:
    """The feeds' part of docs/benchmarks.md: its table, and the py-spy shares if taken."""
    rows = [("figure", "value", "target"), *feed_rows(feed)]
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    text = "\n".join("  ".join(c.ljust(width[i]) for i, c in enumerate(row)) for row in rows)
    section = (
        "## Feeds\n\n"
        f"Measured {feed.get('measured_at', '')} by `python -m benchmarks.kafka` (also part of "
        "`invoke bench`; when this date is later than the full run's above, these figures "
        "replace its Kafka rows); floors in the same run and the same PostgreSQL (ADR 27): a bare "
        "`COPY` of the same inbox rows and a bare multi-row upsert of the same dataset and "
        "file rows, 500 rows a transaction each. "
        + (
            f"Each figure is the median of {feed['runs']} runs; the ratios by run: stored/COPY "
            f"{feed['stored_ratio_to_copy_by_run']}, applied/upsert "
            f"{feed['applied_ratio_to_upsert_by_run']}, applied/bare consumer "
            f"{feed['ratio_by_run']}, p99 {feed['publish_to_applied_p99_ms_by_run']} ms. "
            if "runs" in feed
            else ""
        )
        + f"Load average at the start: {feed.get('load_average', '?')}.\n\n```\n{text}\n```\n"
    )
    profile = feed.get("profile")
    if profile:
        section += (
            f"\nWhere the time goes: py-spy, {profile['seconds']:.0f} s from the first stored "
            "record (the 5,000 records, then the start of the steady phase), the share of "
            "samples each of our functions was on the stack (inclusive). The consumer's "
            "samples include its waits (on PostgreSQL, Redis, Kafka and for records); the "
            "workers' are CPU time only.\n"
        )
        for name in ("consumer", "workers"):
            part = profile.get(name) or {}
            lines = [f"{share:6.1%}  {label}" for label, share in part.get("share", {}).items()]
            section += (
                f"\n{name} ({part.get('samples', 0)} samples):\n\n```\n"
                + "\n".join(lines)
                + "\n```\n"
            )
    return section


def record_feeds(feed: dict) -> Path:
    """Replace (or add) the feeds section of docs/benchmarks.md."""
    path = environment.ROOT / "docs" / "benchmarks.md"
    text = path.read_text()
    head, _, rest = text.partition("## Feeds\n")
    tail = ""
    if rest and "\nRaw figures:" in rest:
        tail = rest[rest.index("\nRaw figures:") :]
    elif not rest and "\nRaw figures:" in head:
        head, tail = head[: head.index("\nRaw figures:")], head[head.index("\nRaw figures:") :]
    path.write_text(head.rstrip("\n") + "\n\n" + feeds_section(feed) + tail)
    return path


def save(figures: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "latest.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    return path


def record(figures: dict) -> Path:
    """Write docs/benchmarks.md: the table, the machine and the raw figures."""
    path = environment.ROOT / "docs" / "benchmarks.md"
    machine = figures["machine"]
    # `invoke chaos --record` keeps its own section at the end; it stays.
    chaos = path.read_text().partition("## Chaos run")[1:] if path.exists() else ("", "")
    path.write_text(
        "# Benchmarks\n\n"
        "Written by `invoke bench --record`. Each load figure is the median of "
        f"{figures['wot_issuance']['runs']} runs of the same length; ratios compare with "
        "floors measured in the same run, because the machines are shared and noisy: "
        "the one-core sign+seal rate (before each load round, median), a trivial Flask "
        "route on the same server and workers, and nginx serving the same file to the same "
        "client (alternating rounds). The figures are the machine's load at the time too; "
        "see `load_average` in the raw figures.\n\n"
        f"Latest run: {figures['measured_at']} on {machine['cpus']} CPUs, "
        f"Python {machine['python']}, {machine['platform']}; `invoke serve` (granian, WSGI) "
        f"{figures['server']['workers']} workers x {figures['server']['threads']} threads, "
        f"{figures['server']['connections']} concurrent clients (wrk), PostgreSQL and the "
        "load generator on the same machine.\n\n"
        "```\n"
        + table(figures)
        + "\n```\n\n"
        + (feeds_section(figures["kafka_feed"]) + "\n" if "kafka_feed" in figures else "")
        + "Raw figures:\n\n```json\n"
        + json.dumps(figures, indent=2)
        + "\n```\n"
        + ("\n" + "".join(chaos) if chaos[0] else "")
    )
    return path
