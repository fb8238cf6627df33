"""Findings -> CDS Hooks cards. Uuid, indicator, source and override-reason policy live here.

RULES.md "Cards": one card per rule that fired, listing every resource it fired for; a
deterministic uuid from the hookInstance, the rule and the resources; no null or empty
values; ``source.topic`` carries the rule code; findings in the card ``extension``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from injection_cds.core import codes
from injection_cds.core.billing import BillingPlan
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import VisitFacts
from injection_cds.protocol.card_extras import CardExtras, CardExtrasBuilder
from injection_cds.protocol.chargeitems import (
    antineoplastic_extras,
    billing_summary_extras,
    iv_extras,
    uncodable_chemo_extras,
    vaccine_extras,
)
from injection_cds.rules import load_rules
from injection_cds.rules.registry import SEVERITY_ORDER, Finding, Rule

SERVICE_LABEL = "injection-cds"
SUMMARY_LIMIT = 139  # the spec: strictly fewer than 140 characters
_UUID_NAMESPACE = uuid.UUID("6f1d8c0e-2b5a-4c1e-9f4e-1b7a2c3d4e5f")
FINDINGS_EXTENSION = "org.injectioncds.findings"

OVERRIDE_REASONS: tuple[dict[str, str], ...] = (
    {
        "system": codes.OVERRIDE_REASON_SYSTEM,
        "code": "documented-elsewhere",
        "display": "Documented elsewhere in the chart",
    },
    {
        "system": codes.OVERRIDE_REASON_SYSTEM,
        "code": "not-applicable",
        "display": "Not applicable to this administration",
    },
    {
        "system": codes.OVERRIDE_REASON_SYSTEM,
        "code": "will-complete-later",
        "display": "Will complete the documentation later",
    },
)


# The rules whose cards carry more than their findings, and who builds it.
_EXTRAS: dict[str, CardExtrasBuilder] = {
    "BIL001": billing_summary_extras,
    "BIL002": iv_extras,
    "BIL003": vaccine_extras,
    "BIL010": antineoplastic_extras,
    "BIL022": uncodable_chemo_extras,
}


def card_uuid(hook_instance: str, rule: str, resources: Iterable[str]) -> str:
    """A uuid derived from the call, the rule and the resources: stable across retries."""
    name = "|".join([hook_instance, rule, *sorted(set(resources))])
    return str(uuid.uuid5(_UUID_NAMESPACE, name))


def _indicator(findings: list[Finding]) -> str:
    return max((f.severity for f in findings), key=SEVERITY_ORDER.__getitem__)


def _paragraph(text: str) -> str:
    """Join a docstring section's wrapped lines into one markdown paragraph."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _summary(rule: Rule, findings: list[Finding]) -> str:
    resources = {f.resource for f in findings}
    summary = rule.summary.rstrip(".")
    if len(resources) > 1:
        noun = (
            "orders"
            if all(r.startswith("MedicationRequest/") for r in resources)
            else ("administrations")
        )
        summary += f" ({len(resources)} {noun})"
    if len(summary) > SUMMARY_LIMIT:
        summary = summary[: SUMMARY_LIMIT - 1].rstrip() + "…"
    return summary


def _detail(rule: Rule, findings: list[Finding], extra: str | None, rule_url: str) -> str:
    lines = [f"- {f.message}" for f in findings]
    parts = ["\n".join(lines)]
    if extra:
        parts.append(extra)
    if rule.doc.why:
        parts.append(f"**Why it matters.** {_paragraph(rule.doc.why)}")
    if rule.doc.fix:
        parts.append(f"**How to fix.** {_paragraph(rule.doc.fix)}")
    parts.append(f"[{rule.code}: about this check]({rule_url})")
    return "\n\n".join(parts)


def build_card(
    rule: Rule,
    findings: list[Finding],
    *,
    hook_instance: str,
    base_url: str,
    visit: VisitFacts,
    ctx: RuleContext,
    plan: BillingPlan,
) -> dict[str, Any]:
    """The card of one rule that fired."""
    rule_url = f"{base_url.rstrip('/')}/rules/{rule.code}"
    builder = _EXTRAS.get(rule.code)
    extras = builder(findings, visit, ctx, plan) if builder is not None else CardExtras()
    indicator = _indicator(findings)
    card: dict[str, Any] = {
        "uuid": card_uuid(hook_instance, rule.code, (f.resource for f in findings)),
        "summary": _summary(rule, findings),
        "detail": _detail(rule, findings, extras.detail, rule_url),
        "indicator": indicator,
        "source": {
            "label": SERVICE_LABEL,
            "url": rule_url,
            "topic": {
                "system": codes.RULES_TOPIC_SYSTEM,
                "code": rule.code,
                "display": rule.summary,
            },
        },
    }
    if rule.family == "documentation" and indicator != "info":
        card["overrideReasons"] = [dict(reason) for reason in OVERRIDE_REASONS]
    if extras.suggestions:
        card["suggestions"] = [dict(s) for s in extras.suggestions]
        card["selectionBehavior"] = extras.selection_behavior or "at-most-one"
    card["extension"] = {
        FINDINGS_EXTENSION: [
            {"rule": f.rule, "resource": f.resource, "element": f.element} for f in findings
        ],
        **extras.extension,
    }
    return card


def build_cards(
    findings: list[Finding],
    *,
    hook_instance: str,
    base_url: str,
    visit: VisitFacts,
    ctx: RuleContext,
    plan: BillingPlan,
) -> list[dict[str, Any]]:
    """One card per rule that fired: most urgent first, then by rule code."""
    rules = load_rules()
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    cards = [
        build_card(
            rules[code],
            rule_findings,
            hook_instance=hook_instance,
            base_url=base_url,
            visit=visit,
            ctx=ctx,
            plan=plan,
        )
        for code, rule_findings in by_rule.items()
    ]
    cards.sort(key=lambda c: (-SEVERITY_ORDER[c["indicator"]], c["source"]["topic"]["code"]))
    return cards
