"""A smoke run of benchmarks/soak.py, so the harness never rots (no speed or memory asserts)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.serverproc import clean_env

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "soak.py"
# --quick chats for 5 s; starting, joining and draining take a few more.
RUN_SECONDS = 45.0
# --quick: 5 clients x 4 msg/s x 5 s, each message to the 4 others.
QUICK_DELIVERIES = 5 * 20 * 4


def test_quick_soak_loses_nothing() -> None:
    """`--quick` delivers every message in order, reports 0 lost, and samples RSS."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        env=clean_env(),
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert re.search(r"^lost: 0$", result.stdout, re.MULTILINE), report
    assert re.search(r"^out of order: 0$", result.stdout, re.MULTILINE), report
    assert re.search(
        rf"^deliveries: {QUICK_DELIVERIES:,} of {QUICK_DELIVERIES:,}$", result.stdout, re.MULTILINE
    ), report
    assert re.search(r"^rss grew after warm-up: (yes|no)$", result.stdout, re.MULTILINE), report
    assert len(re.findall(r"^\s+\d+\.\d\s+\d+\.\d\s+[\d,]+$", result.stdout, re.MULTILINE)) >= 5
