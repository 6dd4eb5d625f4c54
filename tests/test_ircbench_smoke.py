"""A smoke run of benchmarks/run.py --quick against EasyChat only, so the harness never rots."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.serverproc import clean_env

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
# Thirteen tiny scenarios, a fresh server for each run: seconds, not more.
RUN_SECONDS = 180.0
SCENARIOS = (
    "room ingest 1 -> 1, 20 lines per write",
    "fan-out 50 x 5 x 2,000",
    "fan-out 500 x 10 x 200",
    "one-to-one 20,000",
    "p99 latency at 1,000 msg/s, 50 members",
    "connect burst 2,000",
    "5,000 idle connections, registered and in #lobby",
    "EasyChat history on/off (fan-out",
    "EasyChat history on/off (room ingest)",
    "EasyChat history on/off (one-to-one",
    "EasyChat history on/off (p99 latency",
    "floor: minimal Python relay, one-to-one",
    "floor: minimal Python relay + a SQLite row per message",
)


def test_quick_run_reports_every_scenario_with_nothing_lost() -> None:
    """`--quick --servers easychat` fills a table row per scenario, with 0 lost and 0 failed."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--servers", "easychat"],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        env=clean_env(),
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == len(SCENARIOS), report
    for row, title in zip(rows, SCENARIOS, strict=True):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[0].startswith(title), report
        # The EasyChat column holds a number; lost and failed are 0 for both columns.
        assert re.fullmatch(r"[\d,.]+", cells[2]), report
        assert cells[5] == "0/0", report
        assert cells[6] == "0/0", report
    assert re.search(r"^lost or failed: none$", result.stdout, re.MULTILINE), report
    # EasyChat ran on its defaults: history in a file, its console at `info`
    # read by the benchmark, only flood control and the per-IP limits off.
    settings = re.search(r"^settings: EasyChat: `(.*?)`", result.stdout, re.MULTILINE)
    assert settings is not None, report
    assert "--db <tmp>/history.sqlite3" in settings.group(1), report
    for option in ("--log-level", "--sendq", "--autojoin", "--replay-lines", "--ping-interval"):
        assert option not in settings.group(1), report
    consoles = re.findall(r"EasyChat console read: ([\d,]+) bytes", result.stdout)
    assert consoles, report
    assert all(int(count.replace(",", "")) > 0 for count in consoles), report
