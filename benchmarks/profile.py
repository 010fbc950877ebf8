"""Where the time goes: py-spy samples of a running process, summed by our functions."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

PY_SPY = Path(sys.executable).parent / "py-spy"
# Frames worth naming: ours, and the libraries the feed path spends its time in.
OURS = ("app/", "workers/")


def record(pid: int, output: Path, seconds: float, subprocesses=False, idle=False):
    """Start py-spy on `pid` for `seconds` (raw, collapsed stacks); returns the process.
    With `idle`, time spent waiting (on PostgreSQL, Redis, Kafka) is sampled too."""
    command = [str(PY_SPY), "record", "--format", "raw", "--rate", "100", "--nonblocking"]
    command += ["--duration", str(int(seconds)), "--pid", str(pid), "--output", str(output)]
    if subprocesses:
        command.append("--subprocesses")
    if idle:
        command.append("--idle")
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summary(raw: Path, top: int = 25) -> dict:
    """Share of the samples each of our functions was on the stack for (inclusive)."""
    if not raw.exists():
        return {}
    inclusive: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        total += int(count)
        seen = set()
        for frame in stack.split(";"):
            name, _, where = frame.partition(" (")
            path = where.split(":")[0]
            if not path.startswith(OURS):
                continue
            label = f"{path}:{name}"
            if label not in seen:
                seen.add(label)
                inclusive[label] += int(count)
    return {
        "samples": total,
        "share": {label: round(n / total, 3) for label, n in inclusive.most_common(top)},
    }
