"""A few-seconds smoke of the benchmark (bench/run.py --smoke), so it cannot rot.

No assertion on timing: only that the real service starts under gunicorn, answers every
scenario and the floor without errors under wrk, and that the report, JSON and stage timings
are written. CI installs wrk; without it on PATH the test is skipped with a message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.mark.skipif(
    shutil.which("wrk") is None,
    reason="wrk is not on PATH (apt-get install -y wrk); the benchmark smoke needs it",
)
def test_bench_smoke(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--out-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((tmp_path / "results.json").read_text())
    assert result["settings"]["smoke"] is True
    endpoints = {(r["scenario"], r["endpoint"]) for r in result["runs"]}
    assert {("charting-1", "service"), ("charting-1", "floor")} <= endpoints
    assert {("discharge-8", "service"), ("discharge-8", "floor")} <= endpoints
    for entry in result["runs"]:
        assert entry["requests"] > 0
        assert entry["errors"] == 0
    assert result["start_to_first_answer_s"] > 0
    assert result["rss"]["workers_peak_mb"]
    assert set(result["stages"]) == {"charting-1", "discharge-8"}
    report = (tmp_path / "RESULTS.md").read_text()
    assert "| charting-1 |" in report and "ratio to floor" in report
