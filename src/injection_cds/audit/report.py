"""report.html (placeholder)."""

from __future__ import annotations

from pathlib import Path


def write_report(findings_path: Path, target: Path) -> None:
    """Write the report."""
    target.write_text("<html></html>", encoding="utf-8")
