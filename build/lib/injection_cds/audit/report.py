"""report.html: one self-contained page (inline CSS, JS and SVG; no network) for a billing lead.

It shows the same numbers as findings.json — it is built from the same summary and tables —
and marks each headline number with ``data-metric`` so a test can compare the two.
"""

from __future__ import annotations

from html import escape
from typing import Any

from injection_cds.audit.charts import SEVERITY_COLOURS, bar_chart, donut, severity_strip
from injection_cds.audit.outputs import how_to_fix

TOP_CHART = 12
TOP_TABLE = 30
TOP_SKIPPED = 50

_CSS = """
:root{--ink:#1c2833;--muted:#5d6d7e;--line:#d5d8dc;--bg:#f4f6f7;--card:#fff;--accent:#1f618d}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#17202a;color:#fff;padding:24px 40px}header h1{margin:0 0 4px;font-size:24px}
header p{margin:0;color:#aab7b8;font-size:13px}main{max-width:1120px;margin:0 auto;padding:24px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:20px 24px;
margin:0 0 20px}h2{font-size:18px;margin:0 0 12px}p.note{color:var(--muted);font-size:13px;
margin:6px 0 12px}.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));
gap:12px}.kpi{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:14px 16px}.kpi .v{font-size:26px;font-weight:650}.kpi .k{color:var(--muted);
font-size:12px;text-transform:uppercase;letter-spacing:.04em}.kpi.crit .v{color:#c0392b}
.rate{display:flex;gap:24px;align-items:center}.rate .big{font-size:15px}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{text-align:left;
padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}th{color:var(--muted);
font-weight:600;cursor:pointer;user-select:none;white-space:nowrap}td.n,th.n{text-align:right;
font-variant-numeric:tabular-nums}.sev{display:inline-block;padding:1px 8px;border-radius:10px;
color:#fff;font-size:12px}.chart text.axis{font-size:12px;fill:#34495e}.chart text.value{
font-size:12px;fill:#34495e}.donut-label{font-size:24px;font-weight:700;fill:#1e8449}
.legend span{display:inline-block;margin-right:14px;font-size:13px}.legend i{display:inline-block;
width:10px;height:10px;border-radius:2px;margin-right:5px}.fix{color:var(--muted);font-size:13px}
footer{color:var(--muted);font-size:12px;text-align:center;padding:8px 0 30px}
@media print{body{background:#fff}section{break-inside:avoid}}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
_JS = """
document.querySelectorAll("table.sortable th").forEach(function (th, col) {
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = th.classList.contains("n");
    var down = th.dataset.dir !== "desc";
    th.dataset.dir = down ? "desc" : "asc";
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.sort || a.cells[col].textContent;
      var y = b.cells[col].dataset.sort || b.cells[col].textContent;
      var r = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
      return down ? -r : r;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
var drawn = Array.prototype.filter.call(document.querySelectorAll("svg.chart"), function (svg) {
  var box = svg.getBoundingClientRect();
  return box.width > 0 && box.height > 0;
});
document.documentElement.dataset.chartsDrawn = String(drawn.length);
document.documentElement.dataset.ready = "1";
"""


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else escape(str(value))


def _pct(value: float | None) -> str:
    return f"{value:.1%}" if value is not None else "–"


def _kpi(metric: str, label: str, value: Any, extra_class: str = "") -> str:
    return (
        f'<div class="kpi {extra_class}"><div class="v" data-metric="{metric}" '
        f'data-value="{escape(str(value))}">{_n(value)}</div><div class="k">{escape(label)}'
        "</div></div>"
    )


def _severity(severity: str) -> str:
    colour = SEVERITY_COLOURS.get(severity, SEVERITY_COLOURS[""])
    return f'<span class="sev" style="background:{colour}">{escape(severity or "–")}</span>'


def _tally_table(rows: list[dict[str, Any]], key: str, heading: str, table_id: str) -> str:
    body = []
    for row in rows[:TOP_TABLE]:
        rate = row["documentationCompleteRate"]
        body.append(
            f"<tr><td>{escape(str(row[key]))}</td>"
            f'<td class="n">{row["administrations"]:,}</td>'
            f'<td class="n">{row["billableCandidates"]:,}</td>'
            f'<td class="n" data-sort="{rate if rate is not None else -1}">{_pct(rate)}</td>'
            f'<td class="n">{row["withDocumentationGaps"]:,}</td>'
            f'<td class="n">{row["findings"]:,}</td><td class="n">{row["critical"]:,}</td></tr>'
        )
    more = (
        f'<p class="note">Top {TOP_TABLE} of {len(rows):,}; all are in findings.json.</p>'
        if len(rows) > TOP_TABLE
        else ""
    )
    return (
        f'<table class="sortable" id="{table_id}"><thead><tr><th>{escape(heading)}</th>'
        '<th class="n">Administrations</th><th class="n">Billable candidates</th>'
        '<th class="n">Documentation complete</th><th class="n">With gaps</th>'
        '<th class="n">Findings</th>'
        '<th class="n">Critical</th></tr></thead><tbody>'
        + "".join(body)
        + "</tbody></table>"
        + more
    )


def _rules_section(rules: list[dict[str, Any]]) -> str:
    chart = bar_chart(
        "by-rule",
        "Findings by rule",
        [
            (f"{r['rule']} {r['summary']}", r["findings"], SEVERITY_COLOURS.get(r["severity"], ""))
            for r in rules
        ],
        label_width=360,
    )
    body = "".join(
        f"<tr><td><b>{escape(r['rule'])}</b></td><td>{escape(r['summary'])}"
        f'<div class="fix">{escape(how_to_fix(r["rule"]))}</div></td>'
        f'<td>{_severity(r["severity"])}</td><td class="n">{r["findings"]:,}</td>'
        f'<td class="n">{r["resources"]:,}</td></tr>'
        for r in rules
    )
    legend = "".join(
        f'<span><i style="background:{SEVERITY_COLOURS[s]}"></i>{s}</span>'
        for s in ("critical", "warning", "info")
    )
    return (
        "<section><h2>Findings by rule</h2>"
        '<p class="note">DOC rules are documentation gaps (they decide the documentation-'
        "complete rate); BIL rules are billing findings. Each row says how to fix it; the "
        "worklist lists every finding with its encounter and administration.</p>"
        f'<div class="legend">{legend}</div>{chart}'
        '<table class="sortable" id="by-rule"><thead><tr><th>Rule</th><th>What and how to fix'
        '</th><th>Severity</th><th class="n">Findings</th><th class="n">Administrations</th></tr>'
        f"</thead><tbody>{body}</tbody></table>"
        + ("" if rules else '<p class="note">No findings.</p>')
        + "</section>"
    )


def _breakdown_section(
    rows: list[dict[str, Any]], key: str, title: str, heading: str, name: str
) -> str:
    top = rows[:TOP_CHART]
    bars = [(str(r[key]), r["withDocumentationGaps"], "#1f618d") for r in top]
    chart = bar_chart(name, title, bars)
    return (
        f"<section><h2>{escape(title)}</h2>"
        f'<p class="note">Billable-candidate administrations with at least one documentation '
        f"gap, per {escape(heading.lower())} (top {TOP_CHART}). The table adds the "
        "documentation-complete rate and every finding (billing findings included).</p>"
        f"{chart}{_tally_table(rows, key, heading, name)}</section>"
    )


def _billing_section(lines: list[dict[str, Any]]) -> str:
    if not lines:
        return (
            '<section><h2>Billing lines that would be produced</h2><p class="note" '
            'data-metric="billing-lines-none">No billing lines were produced: the billing '
            "rules (BIL001) produced no charge lines for these encounters.</p></section>"
        )
    body = "".join(
        f"<tr><td><b>{escape(line['code'])}</b></td><td>{escape(line['modifiers'] or '–')}"
        f'</td><td>{"yes" if line["ndc"] else "–"}</td><td class="n">{line["lines"]:,}</td>'
        f'<td class="n">{line["units"]:,.2f}</td></tr>'
        for line in lines
    )
    bars = [(ln["code"], ln["lines"], "#117864") for ln in lines[:TOP_CHART]]
    chart = bar_chart("billing", "Billing lines by code", bars)
    return (
        "<section><h2>Billing lines that would be produced</h2>"
        '<p class="note">Charge lines the billing rule (BIL001) would produce, by code and '
        "modifiers.</p>"
        f'{chart}<table class="sortable" id="billing"><thead><tr><th>Code</th>'
        '<th>Modifiers</th><th>NDC</th><th class="n">Lines</th><th class="n">Units</th></tr>'
        f"</thead><tbody>{body}</tbody></table></section>"
    )


def _skipped_section(count: int, skipped: list[dict[str, Any]]) -> str:
    if not count:
        return (
            '<section><h2>Skipped records</h2><p class="note">No record was skipped: every '
            "record was valid JSON and valid FHIR R4.</p></section>"
        )
    body = "".join(
        f"<tr><td>{escape(s['file'])}</td><td>{escape(s['line'])}</td>"
        f"<td>{escape(s['reason'])}</td></tr>"
        for s in skipped[:TOP_SKIPPED]
    )
    return (
        f"<section><h2>Skipped records ({count:,})</h2>"
        '<p class="note">Records that are not valid JSON or not valid FHIR R4 were reported '
        "and left out of the audit. Fix them at the source and audit again.</p>"
        '<table id="skipped"><thead><tr><th>File</th><th>Line</th><th>Reason</th></tr></thead>'
        f"<tbody>{body}</tbody></table></section>"
    )


def render(head: dict[str, Any]) -> str:
    """The whole page, from findings.json's head (meta, summary, tables, skipped)."""
    s = head["summary"]
    definition = head.get("definitions", {})
    rate = s["documentationCompleteRate"]
    kpis = "".join(
        [
            _kpi("administrations", "Administrations", s["administrations"]),
            _kpi("encounters", "Encounters", s["encounters"]),
            _kpi("billableCandidates", "Billable candidates", s["billableCandidates"]),
            _kpi("findings", "Findings", s["findings"]),
            _kpi("critical", "Critical findings", s["critical"], "crit"),
            _kpi("billingLines", "Billing lines", s["billingLines"]),
            _kpi("skippedRecords", "Skipped records", s["skippedRecords"]),
        ]
    )
    severity = {k: s[k] for k in ("critical", "warning", "info")}
    title = "Injection documentation audit"
    rate_value = rate if rate is not None else ""
    complete = s["documentationComplete"]
    by_department = _breakdown_section(
        head["byDepartment"], "department", "Gaps by department", "Department", "by-department"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{_CSS}</style></head>
<body><header><h1>{title}</h1><p>Generated {escape(str(head.get("generatedAt", "")))} ·
{s["files"]:,} input files · {s["recordsRead"]:,} records · rules of the
{escape(str(head.get("hook", "")))} hook</p></header><main>
<section><h2>At a glance</h2><div class="kpis">{kpis}</div></section>
<section><h2>Documentation-complete rate</h2><div class="rate">
{donut("documentation-complete", rate, "Documentation-complete rate")}
<div class="big"><p><b data-metric="documentationCompleteRate" data-value="{rate_value}">
{_pct(rate)}</b> of billable-candidate administrations are fully documented:
<b data-metric="documentationComplete" data-value="{complete}">{complete:,}</b>
of {s["billableCandidates"]:,}.</p>
<p class="note">Billable candidate: {escape(definition.get("billableCandidate", ""))}.
Documentation complete: no finding of a documentation rule (DOC…) on the administration.</p>
</div></div>
<h2>Findings by severity</h2><div class="legend"><span><i style="background:#c0392b"></i>critical
{s["critical"]:,}</span><span><i style="background:#d68910"></i>warning {s["warning"]:,}</span>
<span><i style="background:#2e86c1"></i>info {s["info"]:,}</span></div>
{severity_strip(severity)}</section>
{_rules_section(head["byRule"])}
{_breakdown_section(head["byDrug"], "drug", "Gaps by drug", "Drug", "by-drug")}
{by_department}
{_billing_section(head["billingLines"])}
{_skipped_section(s["skippedRecords"], head["skipped"])}
<footer>injection-cds audit · the same rules as the real-time service · the worklist
(worklist.csv) has one row per finding, with what to fix · no patient data in this report</footer>
</main><script>{_JS}</script></body></html>
"""


def write_report(head: dict[str, Any], target: Any) -> None:
    """Write report.html."""
    with open(target, "w", encoding="utf-8") as out:
        out.write(render(head))
