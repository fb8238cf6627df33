"""report.html in a real browser: headless Chromium renders it, draws its charts, and shows
the numbers of findings.json. Skipped (with the reason) when Chromium is not installed."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_audit import EXTERNAL, small_export

from injection_cds.audit import run_audit

pytestmark = pytest.mark.browser
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed (apt-get install chromium)")


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


class Metrics(HTMLParser):
    """The rendered DOM's data-metric values, chart names and bars, and <html> data."""

    def __init__(self) -> None:
        super().__init__()
        self.metrics: dict[str, str] = {}
        self.charts: list[str] = []
        self.bars: dict[str, list[tuple[str, str]]] = {}
        self.root: dict[str, str] = {}
        self._chart: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.root = a
        if "data-metric" in a:
            self.metrics[a["data-metric"]] = a.get("data-value", "")
        if tag == "svg" and "data-chart" in a:
            self._chart = a["data-chart"]
            self.charts.append(self._chart)
            self.bars[self._chart] = []
        if tag == "rect" and self._chart and "data-label" in a:
            self.bars[self._chart].append((a["data-label"], a["data-value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._chart = None


def render(tmp_path: Path, report: Path) -> Metrics:
    dom = run_chromium(tmp_path, "--dump-dom", report.resolve().as_uri()).stdout
    assert "<html" in dom, "Chromium printed no DOM"
    parsed = Metrics()
    parsed.feed(dom)
    return parsed


def check_report(tmp_path: Path, out: Path) -> Metrics:
    findings: dict[str, Any] = json.loads((out / "findings.json").read_text("utf-8"))
    page = render(tmp_path, out / "report.html")
    assert page.root.get("data-ready") == "1", "the page's script did not run"
    summary = findings["summary"]
    for key in (
        "administrations",
        "encounters",
        "billableCandidates",
        "findings",
        "critical",
        "billingLines",
        "skippedRecords",
        "documentationComplete",
    ):
        assert int(page.metrics[key]) == summary[key], key
    rate = summary["documentationCompleteRate"]
    assert (float(page.metrics["documentationCompleteRate"]) if rate is not None else None) == rate
    assert {"documentation-complete", "by-severity", "by-rule", "by-drug", "by-department"} <= set(
        page.charts
    )
    assert int(page.root["data-charts-drawn"]) == len(page.charts), "a chart has no size"
    by_rule = {label.split(" ", 1)[0]: int(value) for label, value in page.bars["by-rule"]}
    assert by_rule == {r["rule"]: r["findings"] for r in findings["byRule"]}
    for chart, key, rows in (
        ("by-drug", "drug", findings["byDrug"]),
        ("by-department", "department", findings["byDepartment"]),
    ):
        bars = [(label, int(value)) for label, value in page.bars[chart]]
        assert bars == [(r[key], r["withDocumentationGaps"]) for r in rows[: len(bars)]]
        assert len(bars) == min(len(rows), 12)
    severity = {label: int(value) for label, value in page.bars["by-severity"]}
    assert severity == {k: summary[k] for k in ("critical", "warning", "info") if summary[k]}
    return page


def test_report_renders_in_chromium(tmp_path: Path) -> None:
    chromium()
    out = tmp_path / "out"
    run_audit([small_export(tmp_path)], out, workers=1, progress=False, stderr=io.StringIO())
    check_report(tmp_path, out)
    shot = tmp_path / "report.png"
    run_chromium(
        tmp_path, f"--screenshot={shot}", "--window-size=1200,2400", (out / "report.html").as_uri()
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000  # a drawn page, not a blank one


def test_report_of_external_data_renders_in_chromium(tmp_path: Path) -> None:
    chromium()
    if not (EXTERNAL / "mimic-iv-demo-fhir").is_dir():
        pytest.skip(f"external data not present at {EXTERNAL}")
    out = tmp_path / "out"
    run_audit([EXTERNAL.resolve()], out, workers=2, progress=False, stderr=io.StringIO())
    page = check_report(tmp_path, out)
    assert re.fullmatch(r"\d+", page.metrics["findings"])
