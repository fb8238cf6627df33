"""The machine-readable outputs: ``worklist.csv`` and ``findings.json``, written as we go.

Both are streamed: a finding is written when its encounter group is done, so memory does
not grow with the audit. ``findings.json`` is assembled at the end from a spill file, with
the summary and tables first.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from injection_cds.audit.aggregate import Totals
from injection_cds.audit.worker import GroupResult
from injection_cds.rules import load_rules
from injection_cds.spreadsheet import safe_row

# What a worklist row and a findings record both say about a finding, in this order.
_FINDING_FIELDS = ("drug", "time", "department", "rule", "severity", "element")
WORKLIST_COLUMNS = ("encounter", "administration", *_FINDING_FIELDS, "problem", "how_to_fix")
# The keys of a findings.json record (``finding_rows``), and the columns of findings.parquet.
FINDINGS_RECORD = ("encounter", "resource", *_FINDING_FIELDS, "message", "data")
_MARKDOWN = re.compile(r"\*\*|__|`")


def plain(text: str) -> str:
    """A one-line, markdown-free version of a finding message or a rule's fix."""
    return " ".join(_MARKDOWN.sub("", text).split())


def how_to_fix(rule: str) -> str:
    """The rule's "How to fix" section, on one line."""
    found = load_rules().get(rule)
    return plain(found.doc.fix or found.summary) if found else ""


def _id(reference: str | None) -> str:
    return reference.split("/", 1)[1] if reference and "/" in reference else (reference or "")


def finding_rows(
    group: GroupResult, fixes: dict[str, str] | None = None
) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Each finding of a group as a worklist row and a findings.json record (both engines)."""
    fixes = {} if fixes is None else fixes
    by_reference = {a.reference: a for a in group.administrations}
    for finding in group.findings:
        administration = by_reference.get(finding.resource)
        fix = fixes.get(finding.rule)
        if fix is None:
            fix = fixes[finding.rule] = how_to_fix(finding.rule)
        row = (
            _id(group.encounter),
            _id(finding.resource) if administration else "",
            administration.drug if administration else "",
            administration.when if administration else "",
            group.department,
            finding.rule,
            finding.severity,
            finding.element,
            plain(finding.message),
            fix,
        )
        record: dict[str, Any] = {
            "encounter": group.encounter,
            "resource": finding.resource,
            "drug": row[2] or None,
            "time": row[3] or None,
            "department": group.department,
            "rule": finding.rule,
            "severity": finding.severity,
            "element": finding.element,
            "message": finding.message,
        }
        if finding.data:
            record["data"] = orjson.loads(finding.data)
        yield row, record


def findings_head(totals: Totals, meta: dict[str, Any]) -> dict[str, Any]:
    """findings.json without its findings: what report.html is built from."""
    return {
        **meta,
        "summary": totals.summary(),
        **totals.tables(),
        "skipped": [{"file": s.file, "line": s.line, "reason": s.reason} for s in totals.skipped],
    }


class Outputs:
    """Writers for the worklist and the findings spill file."""

    def __init__(self, out_dir: Path, work_dir: Path) -> None:
        self.out_dir = out_dir
        self._spill_path = work_dir / "findings.jsonl"
        self._csv_file: IO[str] = (out_dir / "worklist.csv").open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(WORKLIST_COLUMNS)
        self._spill: IO[bytes] = self._spill_path.open("wb")
        self._fixes: dict[str, str] = {}

    def add(self, group: GroupResult) -> None:
        """Write the findings of one encounter group."""
        for row, record in finding_rows(group, self._fixes):
            self._csv.writerow(safe_row(row))  # charted text is never a formula
            self._spill.write(orjson.dumps(record) + b"\n")

    def finish(self, totals: Totals, meta: dict[str, Any]) -> dict[str, Any]:
        """Close the worklist and write findings.json; return its head (all but findings)."""
        self._csv_file.close()
        self._spill.close()
        path = self.out_dir / "findings.json"
        head = findings_head(totals, meta)
        with path.open("wb") as out:
            out.write(orjson.dumps(head, option=orjson.OPT_INDENT_2)[:-2])
            out.write(b',\n  "findings": [')
            first = True
            with self._spill_path.open("rb") as spill:
                for line in spill:
                    out.write(b"\n    " if first else b",\n    ")
                    out.write(line.rstrip(b"\n"))
                    first = False
            out.write(b"\n  ]\n}\n" if not first else b"]\n}\n")
        self._spill_path.unlink()
        return head

    def abort(self) -> None:
        """Close the files after a failure."""
        if not self._csv_file.closed:
            self._csv_file.close()
        if not self._spill.closed:
            self._spill.close()
