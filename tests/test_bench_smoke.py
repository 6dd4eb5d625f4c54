"""A smoke run of benchmarks/history_throughput.py, so the harness never rots (no speeds)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.serverproc import clean_env

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "history_throughput.py"
# Two servers started and a few thousand messages relayed: seconds, not more.
RUN_SECONDS = 60.0
# --quick: 5 clients, 2 senders x 200, each message to the 4 others.
QUICK_DELIVERIES = 2 * 200 * 4


def test_quick_run_completes_with_nothing_lost(tmp_path: Path) -> None:
    """`--quick` runs both modes once, delivers every message, and reports 0 lost."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--db-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        env=clean_env(),
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    runs = re.findall(r"^\s*1\s+(memory|file)\s+([\d,]+)\s", result.stdout, re.MULTILINE)
    assert runs == [("memory", f"{QUICK_DELIVERIES:,}"), ("file", f"{QUICK_DELIVERIES:,}")], report
    assert re.search(r"^ratio with-db/without-db: \d+\.\d\d$", result.stdout, re.MULTILINE), report
    assert re.search(r"^lost: 0$", result.stdout, re.MULTILINE), report
    # The run leaves no database files behind in --db-dir.
    assert list(tmp_path.iterdir()) == []
