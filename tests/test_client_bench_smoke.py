"""A smoke run of benchmarks/client_bench.py, so the harness never rots (no speed asserts)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serverproc import clean_env

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "client_bench.py"
# --quick: a server and a client started per client measured, 200 lines each.
RUN_SECONDS = 180.0

if shutil.which("tmux") is None and os.environ.get("EASYCHAT_REQUIRE_TMUX") != "1":
    pytest.skip("tmux is not installed", allow_module_level=True)


def test_quick_run_shows_every_flood_on_screen() -> None:
    """`--quick` floods 200 lines, sees the marker on screen, and prints the table row(s)."""
    with_irssi = shutil.which("irssi") is not None
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", *([] if with_irssi else ["--no-irssi"])],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        env=clean_env(),
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    # N, client, seconds, us/line, CPU s, VmHWM, VmRSS, server CPU, tmux CPU
    row = r"^\s+200\s+{}\s+\d+\.\d\d\s+\d+\s+\d+\.\d\d(\s+\d+\.\d){{2}}(\s+\d+\.\d\d){{2}}$"
    assert re.search(row.format("easychat"), result.stdout, re.MULTILINE), report
    if with_irssi:
        assert re.search(row.format("irssi"), result.stdout, re.MULTILINE), report
        assert re.search(r"^\s+200\s+ratio\s+\d+\.\d\d", result.stdout, re.MULTILINE), report
