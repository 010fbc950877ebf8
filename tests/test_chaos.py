"""`invoke chaos` for two minutes: replicas of every process, one killed every 30 s,
and nothing lost (devtools/chaos.py). Its own marker and CI step (.ci/run)."""

import re
import subprocess
import sys

import pytest

from tests.support.worker_processes import ROOT

pytestmark = pytest.mark.chaos


@pytest.mark.timeout(900)
def test_two_minutes_of_kills_lose_nothing():
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "chaos", "--minutes", "2", "--seed", "62"],
        cwd=ROOT, capture_output=True, text=True, timeout=880,
    )  # fmt: skip

    print(result.stdout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert re.search(r"^result\s+PASSED$", result.stdout, re.M)
    # Seed 62 kills PostgreSQL, an API process, a consumer and a worker (at 15, 45, 75, 105 s).
    kills = re.search(r"^kills by process\s+(.+)$", result.stdout, re.M).group(1)
    assert sum(int(count) for count in re.findall(r"\d+", kills)) == 4
