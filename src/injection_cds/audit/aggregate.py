"""Totals of an audit, accumulated group by group in the main process.

Memory is bounded by the number of rules, drugs, departments and billing codes — never by
the number of encounters or administrations.

The documentation-complete rate is: billable-candidate administrations (completed and
given by injection — the administrations the documentation rules look at) with no
documentation finding, over all billable-candidate administrations.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import orjson

from injection_cds.audit.reader import Skipped
from injection_cds.audit.worker import GroupResult
from injection_cds.rules import load_rules

MAX_SKIPPED_KEPT = 1000
_COUNTS = (
    "files",
    "records_read",
    "encounters",
    "administrations",
    "candidates",
    "complete",
    "findings",
    "billing_lines",
)


@dataclass
class Tally:
    """Administrations and gaps under one heading (a drug, a department)."""

    administrations: int = 0
    candidates: int = 0
    complete: int = 0
    findings: int = 0
    critical: int = 0

    def as_json(self) -> dict[str, Any]:
        """The tally for findings.json, with its documentation-complete rate."""
        return {
            "administrations": self.administrations,
            "billableCandidates": self.candidates,
            "documentationComplete": self.complete,
            "documentationCompleteRate": rate(self.complete, self.candidates),
            "withDocumentationGaps": self.candidates - self.complete,
            "findings": self.findings,
            "critical": self.critical,
        }


def rate(part: int, whole: int) -> float | None:
    """The ratio part / whole rounded to 4 places, or None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


@dataclass
class Totals:
    """Everything the report and the summary show."""

    files: int = 0
    records_read: int = 0
    resources_by_type: Counter[str] = field(default_factory=Counter)
    skipped_count: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    encounters: int = 0
    administrations: int = 0
    candidates: int = 0
    complete: int = 0
    findings: int = 0
    by_severity: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    rule_administrations: Counter[str] = field(default_factory=Counter)
    by_drug: dict[str, Tally] = field(default_factory=dict)
    by_department: dict[str, Tally] = field(default_factory=dict)
    # (code, system, modifiers, NDC) -> [lines, units]; units summed exactly (Fraction), so
    # the total does not depend on the order the groups are folded in (the Spark engine).
    billing: dict[tuple[str, str, str, str], list[Any]] = field(default_factory=dict)
    billing_lines: int = 0

    def skip(self, record: Skipped) -> None:
        """Count a skipped record (and keep the first ones for the report)."""
        self.skipped_count += 1
        if len(self.skipped) < MAX_SKIPPED_KEPT:
            self.skipped.append(record)

    def add(self, group: GroupResult) -> None:
        """Fold one encounter group in."""
        if group.encounter is not None:
            self.encounters += 1
        documentation_gaps: set[str] = set()
        per_resource: Counter[str] = Counter()
        critical: Counter[str] = Counter()
        rules_seen: set[tuple[str, str]] = set()
        for finding in group.findings:
            self.findings += 1
            self.by_severity[finding.severity] += 1
            self.by_rule[finding.rule] += 1
            if (finding.rule, finding.resource) not in rules_seen:
                rules_seen.add((finding.rule, finding.resource))
                self.rule_administrations[finding.rule] += 1
            per_resource[finding.resource] += 1
            if finding.severity == "critical":
                critical[finding.resource] += 1
            rule = load_rules().get(finding.rule)
            if rule is None or rule.family == "documentation":
                documentation_gaps.add(finding.resource)
            if finding.data:
                self._billing(orjson.loads(finding.data))
        department = self.by_department.setdefault(group.department, Tally())
        for administration in group.administrations:
            drug = self.by_drug.setdefault(administration.drug, Tally())
            complete = administration.candidate and administration.reference not in (
                documentation_gaps
            )
            for tally in (drug, department):
                tally.administrations += 1
                tally.candidates += administration.candidate
                tally.complete += complete
                tally.findings += per_resource[administration.reference]
                tally.critical += critical[administration.reference]
            self.administrations += 1
            self.candidates += administration.candidate
            self.complete += complete

    def merge(self, other: Totals) -> None:
        """Fold in the totals of other groups (the Spark engine's partitions)."""
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.resources_by_type.update(other.resources_by_type)
        self.by_severity.update(other.by_severity)
        self.by_rule.update(other.by_rule)
        self.rule_administrations.update(other.rule_administrations)
        for mine, theirs in (
            (self.by_drug, other.by_drug),
            (self.by_department, other.by_department),
        ):
            for name, tally in theirs.items():
                into = mine.setdefault(name, Tally())
                into.administrations += tally.administrations
                into.candidates += tally.candidates
                into.complete += tally.complete
                into.findings += tally.findings
                into.critical += tally.critical
        for key, (count, units) in other.billing.items():
            entry = self.billing.setdefault(key, [0, Fraction(0)])
            entry[0] += count
            entry[1] += units
        for record in other.skipped:
            self.skip(record)
        self.skipped_count += other.skipped_count - len(other.skipped)

    def _billing(self, data: Any) -> None:
        lines = data.get("lines") if isinstance(data, dict) else None
        for line in lines or ():
            if not isinstance(line, dict):
                continue
            modifiers = line.get("modifiers") or []
            key = (
                str(line.get("code") or "?"),
                str(line.get("system") or ""),
                "-".join(str(m) for m in modifiers) if isinstance(modifiers, list) else "",
                "NDC" if line.get("ndc") else "",
            )
            entry = self.billing.setdefault(key, [0, Fraction(0)])
            entry[0] += 1
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                entry[1] += Fraction(float(line.get("units") or 0))
            self.billing_lines += 1

    def summary(self) -> dict[str, Any]:
        """The headline numbers (findings.json ``summary``; the report shows the same)."""
        return {
            "files": self.files,
            "recordsRead": self.records_read,
            "skippedRecords": self.skipped_count,
            "encounters": self.encounters,
            "administrations": self.administrations,
            "billableCandidates": self.candidates,
            "documentationComplete": self.complete,
            "documentationCompleteRate": rate(self.complete, self.candidates),
            "findings": self.findings,
            "critical": self.by_severity["critical"],
            "warning": self.by_severity["warning"],
            "info": self.by_severity["info"],
            "billingLines": self.billing_lines,
        }

    def tables(self) -> dict[str, Any]:
        """The breakdowns (findings.json; the report's tables and charts)."""
        return {
            "byRule": [
                {
                    "rule": code,
                    "summary": load_rules()[code].summary if code in load_rules() else "",
                    "family": load_rules()[code].family if code in load_rules() else "",
                    "severity": load_rules()[code].severity if code in load_rules() else "",
                    "findings": count,
                    "resources": self.rule_administrations[code],
                }
                for code, count in sorted(self.by_rule.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "byDrug": _tallies(self.by_drug, "drug"),
            "byDepartment": _tallies(self.by_department, "department"),
            "billingLines": [
                {
                    "code": code,
                    "system": system,
                    "modifiers": modifiers,
                    "ndc": bool(ndc),
                    "lines": int(count),
                    "units": float(units),
                }
                for (code, system, modifiers, ndc), (count, units) in sorted(
                    self.billing.items(), key=lambda kv: (-kv[1][0], kv[0])
                )
            ],
            "resourcesByType": dict(sorted(self.resources_by_type.items())),
        }


def _tallies(tallies: dict[str, Tally], name: str) -> list[dict[str, Any]]:
    ordered = sorted(
        tallies.items(),
        key=lambda kv: (
            -(kv[1].candidates - kv[1].complete),
            -kv[1].findings,
            -kv[1].administrations,
            kv[0],
        ),
    )
    return [{name: key, **tally.as_json()} for key, tally in ordered]
