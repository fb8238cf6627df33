"""What clinicians do with the cards, per rule: shown, accepted, overridden, and why.

Read from the card ledger and the feedback store. A card counts once, with the outcome of its
latest feedback (a client may send feedback for the same card more than once). Cards that got
no feedback were ignored, or their EHR does not send feedback; CDS Hooks sends none for them.

- ``override_rate`` = overridden / shown (the classic alert override rate);
- ``acceptance_rate`` = accepted / shown;
- ``top_reasons`` = the most frequent override reasons (by coding), most frequent first.

Served as ``GET /analytics`` (JSON, or an HTML page with a chart) and
``injection-cds report`` (text, JSON or CSV).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from injection_cds.protocol.feedback import parse_timestamp
from injection_cds.spreadsheet import safe_row
from injection_cds.store.ledger import Store

TOP_REASONS = 3
NO_REASON = "(no reason coded)"


@dataclass(frozen=True)
class ReasonStat:
    """One override reason and how many overridden cards gave it."""

    system: str | None
    code: str | None
    display: str | None
    count: int

    @property
    def label(self) -> str:
        """The display, else the code, else a placeholder."""
        return self.display or self.code or NO_REASON


@dataclass(frozen=True)
class RuleStats:
    """The numbers of one rule."""

    rule_code: str
    summary: str
    shown: int
    accepted: int
    overridden: int
    top_reasons: tuple[ReasonStat, ...]

    @property
    def override_rate(self) -> float | None:
        """Overridden / shown (None when no card was shown)."""
        return self.overridden / self.shown if self.shown else None

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted / shown (None when no card was shown)."""
        return self.accepted / self.shown if self.shown else None

    @property
    def no_feedback(self) -> int:
        """Cards with no feedback at all."""
        return max(self.shown - self.accepted - self.overridden, 0)


@dataclass(frozen=True)
class Report:
    """Every rule's numbers since a date."""

    since: datetime | None
    generated_at: datetime
    rules: tuple[RuleStats, ...]
    unknown_card_feedback: int

    @property
    def totals(self) -> dict[str, int]:
        """Sums over all rules."""
        return {
            "shown": sum(r.shown for r in self.rules),
            "accepted": sum(r.accepted for r in self.rules),
            "overridden": sum(r.overridden for r in self.rules),
        }


def parse_since(text: str) -> datetime:
    """``2026-03-01`` (midnight UTC) or an ISO 8601 date-time (naive means UTC)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
        return parse_timestamp(value)
    except ValueError:
        raise ValueError("since must be a date (YYYY-MM-DD) or an ISO 8601 date-time") from None


def _summaries() -> dict[str, str]:
    from injection_cds.rules import load_rules

    return {code: rule.summary for code, rule in load_rules().items()}


def _own_reason_displays() -> dict[tuple[str | None, str | None], str]:
    from injection_cds.protocol.cards import OVERRIDE_REASONS

    return {(r["system"], r["code"]): r["display"] for r in OVERRIDE_REASONS}


def build_report(
    store: Store,
    since: datetime | None = None,
    *,
    top: int = TOP_REASONS,
    now: datetime | None = None,
) -> Report:
    """The report of every rule that issued a card since ``since``."""
    reasons: dict[str, list[ReasonStat]] = defaultdict(list)
    own = _own_reason_displays()
    for row in store.queries.override_reasons(since):
        # The service's own codes show its own display (clients such as the CDS Hooks
        # sandbox send the code alone); other codings keep what the client sent.
        display = own.get((row.system, row.code), row.display)
        reasons[row.rule_code].append(ReasonStat(row.system, row.code, display, row.count))
    summaries = _summaries()
    rules = []
    for counts in store.queries.rule_counts(since):
        ranked = sorted(
            reasons.get(counts.rule_code, []),
            key=lambda r: (-r.count, r.code is None, r.label, r.code or ""),
        )
        rules.append(
            RuleStats(
                rule_code=counts.rule_code,
                summary=summaries.get(counts.rule_code, ""),
                shown=counts.shown,
                accepted=counts.accepted,
                overridden=counts.overridden,
                top_reasons=tuple(ranked[:top]),
            )
        )
    return Report(
        since=since,
        generated_at=now or datetime.now(UTC),
        rules=tuple(rules),
        unknown_card_feedback=store.queries.unknown_feedback_count(since),
    )


def _iso(stamp: datetime | None) -> str | None:
    return None if stamp is None else stamp.isoformat().replace("+00:00", "Z")


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def report_json(report: Report) -> dict[str, Any]:
    """The report as a JSON document (``GET /analytics``, ``report --format json``)."""
    body: dict[str, Any] = {"generatedAt": _iso(report.generated_at)}
    if report.since is not None:
        body["since"] = _iso(report.since)
    body["rules"] = [
        {
            "rule": r.rule_code,
            "summary": r.summary,
            "shown": r.shown,
            "accepted": r.accepted,
            "overridden": r.overridden,
            "noFeedback": r.no_feedback,
            "overrideRate": _rate(r.override_rate),
            "acceptanceRate": _rate(r.acceptance_rate),
            "topOverrideReasons": [
                {
                    "system": reason.system,
                    "code": reason.code,
                    "display": reason.label,
                    "count": reason.count,
                }
                for reason in r.top_reasons
            ],
        }
        for r in report.rules
    ]
    body["totals"] = report.totals
    body["unknownCardFeedback"] = report.unknown_card_feedback
    return body


def report_csv(report: Report) -> str:
    """One CSV row per rule; the top reasons joined with ``; `` as ``label (count)``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["rule", "shown", "accepted", "overridden", "override_rate", "top_override_reasons"]
    )
    for r in report.rules:
        rate = "" if r.override_rate is None else f"{r.override_rate:.4f}"
        reasons = "; ".join(f"{x.label} ({x.count})" for x in r.top_reasons)
        # Reason labels come from clients (display text): never a formula in a spreadsheet.
        writer.writerow(safe_row([r.rule_code, r.shown, r.accepted, r.overridden, rate, reasons]))
    return out.getvalue()


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def report_text(report: Report) -> str:
    """A fixed-width table for the terminal."""
    since = f" since {_iso(report.since)}" if report.since else ""
    lines = [f"Card outcomes per rule{since}", ""]
    header = f"{'rule':<10} {'shown':>7} {'accepted':>9} {'overridden':>11} {'override':>9}"
    lines += [header + "  top override reasons", "-" * (len(header) + 24)]
    for r in report.rules:
        reasons = ", ".join(f"{x.label} ({x.count})" for x in r.top_reasons) or "–"
        lines.append(
            f"{r.rule_code:<10} {r.shown:>7} {r.accepted:>9} {r.overridden:>11} "
            f"{_percent(r.override_rate):>9}  {reasons}"
        )
    if not report.rules:
        lines.append("(no cards in the ledger for this period)")
    totals = report.totals
    lines += [
        "",
        f"total: {totals['shown']} shown, {totals['accepted']} accepted, "
        f"{totals['overridden']} overridden",
    ]
    if report.unknown_card_feedback:
        lines.append(f"feedback for unknown cards: {report.unknown_card_feedback}")
    return "\n".join(lines) + "\n"


_BAR_WIDTH = 520


def _chart_rows(report: Report) -> list[dict[str, Any]]:
    widest = max((r.shown for r in report.rules), default=0) or 1
    rows = []
    for r in report.rules:
        scale = _BAR_WIDTH / widest
        accepted, overridden = r.accepted * scale, r.overridden * scale
        rows.append(
            {
                "stats": r,
                "accepted_w": round(accepted, 1),
                "overridden_w": round(overridden, 1),
                "none_w": round(r.no_feedback * scale, 1),
                "override_pct": _percent(r.override_rate),
            }
        )
    return rows


_ENV: Environment | None = None


def render_html(report: Report, base_url: str = "") -> str:
    """A self-contained HTML page: a table and an inline SVG chart (no network)."""
    global _ENV
    if _ENV is None:
        _ENV = Environment(
            loader=PackageLoader("injection_cds.web", "templates"),
            autoescape=select_autoescape(["html"]),
        )
    template = _ENV.get_template("analytics.html")
    return template.render(
        report=report,
        rows=_chart_rows(report),
        bar_width=_BAR_WIDTH,
        since=_iso(report.since),
        generated_at=_iso(report.generated_at),
        base_url=base_url,
        percent=_percent,
    )
