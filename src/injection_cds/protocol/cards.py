"""Findings -> CDS Hooks cards: folding, uuid, links and suggestions, for an audience.

RULES.md "Cards": one root cause, one card. Which findings a call shows is its audience's
(``audience.py``); how they fold into cards depends on it too:

- ``clinician`` (charting): the items of one administration at one urgency fold into one
  card (a to-do list per dose), except an expired product (DOC005) and an unidentified drug
  (DOC014), root causes of their own.
- ``billing`` (discharge) and ``order`` (order-sign): one card per rule listing its
  administrations; the info-level documentation items of one administration fold into one.

Administrations with the same items at the same urgency share a card. A card's
``org.injectioncds.findings`` lists every finding it reports and ``source.topic`` names its
leading rule (the most urgent, then the first in rule order), so per-rule analytics stay
exact (the ledger records each rule of a card). The uuid is derived from the hookInstance,
the rules and the resources: stable across retries. Rule pages are card ``links``
(absolute), never links inside the markdown; certain fixes are ``update`` suggestions
(``fixes.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from injection_cds.core import codes
from injection_cds.core.billing import BillingPlan
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import VisitFacts
from injection_cds.protocol.audience import (
    AUDIENCE_BILLING,
    AUDIENCE_CLINICIAN,
    AUDIENCE_ORDER,
    is_shown,
)
from injection_cds.protocol.card_extras import CardExtras, CardExtrasBuilder
from injection_cds.protocol.chargeitems import (
    billing_summary_extras,
    plan_lines_extras,
    uncodable_chemo_extras,
)
from injection_cds.protocol.fixes import Fix, certain_fixes, suggestions_for
from injection_cds.rules import load_rules, rules_in_order
from injection_cds.rules.registry import SEVERITY_ORDER, Finding, Rule

Json = dict[str, Any]
SERVICE_LABEL = "injection-cds"
SUMMARY_LIMIT = 139  # the spec: strictly fewer than 140 characters
_UUID_NAMESPACE = uuid.UUID("6f1d8c0e-2b5a-4c1e-9f4e-1b7a2c3d4e5f")
FINDINGS_EXTENSION = "org.injectioncds.findings"

# Urgencies whose documentation items of one administration fold into one card.
FOLDED_TIERS: dict[str, frozenset[str]] = {
    AUDIENCE_CLINICIAN: frozenset({"info", "warning", "critical"}),
    AUDIENCE_BILLING: frozenset({"info"}),
    AUDIENCE_ORDER: frozenset({"info"}),
}
# Root causes of their own, never folded with missing fields: a safety event, and the
# unidentified drug that other findings would only follow from.
NEVER_FOLDED = frozenset({"DOC005", "DOC014"})

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
    "BIL002": plan_lines_extras(lambda plan: plan.iv_lines),  # IV, infusion, SC infusion
    "BIL003": plan_lines_extras(lambda plan: plan.vaccine_lines),  # administration, product
    "BIL010": plan_lines_extras(lambda plan: plan.antineoplastic_lines),  # 96401/96402, drug
    "BIL013": plan_lines_extras(lambda plan: plan.allergen_lines),
    "BIL022": uncodable_chemo_extras,
    "BIL029": plan_lines_extras(lambda plan: plan.skin_test_lines),
    "BIL030": plan_lines_extras(lambda plan: plan.joint_lines),
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


def _detail(rule: Rule, findings: list[Finding], extras: CardExtras) -> str:
    lines = [f"- {f.message}" for f in findings]
    parts = ["\n".join(lines)]
    if extras.detail:
        parts.append(extras.detail)
    if rule.doc.why:
        parts.append(f"**Why it matters.** {_paragraph(rule.doc.why)}")
    fix = extras.fix if extras.fix is not None else _paragraph(rule.doc.fix)
    if fix:
        parts.append(f"**How to fix.** {fix}")
    return "\n\n".join(parts)


def _folded_summary(rules: list[Rule], findings: list[Finding]) -> str:
    items = "; ".join(_short(rule.summary) for rule in rules)
    resources = {f.resource for f in findings}
    summary = f"To complete: {items}"
    if len(resources) > 1:
        summary += f" ({len(resources)} administrations)"
    if len(summary) > SUMMARY_LIMIT:
        summary = summary[: SUMMARY_LIMIT - 1].rstrip() + "…"
    return summary


def _short(summary: str) -> str:
    """A rule summary as an item of a list: no parenthesis, no full stop, lower-case start."""
    text = summary.split(" (")[0].rstrip(".")
    return text[:1].lower() + text[1:]


def _folded_detail(rules: list[Rule], findings: list[Finding], extras: CardExtras) -> str:
    parts = ["\n".join(f"- {f.message}" for f in findings)]
    if extras.detail:
        parts.append(extras.detail)
    fixes = [
        f"- **{rule.code}** {_paragraph(rule.doc.fix)}" for rule in rules if rule.doc.fix.strip()
    ]
    if fixes:
        parts.append("**How to fix.**\n" + "\n".join(fixes))
    return "\n\n".join(parts)


def _merge_extras(parts: list[CardExtras]) -> CardExtras:
    if len(parts) == 1:
        return parts[0]
    details = [p.detail for p in parts if p.detail]
    extension: dict[str, Any] = {}
    for part in parts:
        extension.update(part.extension)
    return CardExtras(
        detail="\n\n".join(details) if details else None,
        extension=extension,
        suggestions=tuple(s for p in parts for s in p.suggestions),
        selection_behavior=next(
            (p.selection_behavior for p in parts if p.selection_behavior), None
        ),
    )


def _links(rules: list[Rule], base_url: str) -> list[dict[str, str]]:
    """The rule pages, as card links: opened apart from the EHR's own page (absolute)."""
    return [
        {
            "label": f"{rule.code}: about this check",
            "url": rule_url(base_url, rule.code),
            "type": "absolute",
        }
        for rule in rules
    ]


def rule_url(base_url: str, code: str) -> str:
    """The absolute URL of a rule's page."""
    return f"{base_url.rstrip('/')}/rules/{code}"


def build_card(
    findings: list[Finding],
    *,
    hook_instance: str,
    base_url: str,
    visit: VisitFacts,
    ctx: RuleContext,
    plan: BillingPlan,
    fixes: Mapping[str, Fix] | None = None,
) -> dict[str, Any]:
    """The card of one root cause: one rule's findings, or one administration's folded items."""
    order = {code: n for n, code in enumerate(c.code for c in rules_in_order())}
    registry = load_rules()
    rules = [registry[code] for code in sorted({f.rule for f in findings}, key=order.__getitem__)]
    findings = sorted(findings, key=lambda f: order[f.rule])
    indicator = _indicator(findings)
    lead = next(
        r for r in rules if any(f.rule == r.code and f.severity == indicator for f in findings)
    )
    extras = _merge_extras(
        [
            _EXTRAS[r.code]([f for f in findings if f.rule == r.code], visit, ctx, plan)
            for r in rules
            if r.code in _EXTRAS
        ]
        or [CardExtras()]
    )
    if len(rules) == 1:
        summary, detail = _summary(lead, findings), _detail(lead, findings, extras)
    else:
        summary, detail = _folded_summary(rules, findings), _folded_detail(rules, findings, extras)
    lead_url = rule_url(base_url, lead.code)
    card: dict[str, Any] = {
        "uuid": card_uuid(
            hook_instance, "+".join(r.code for r in rules), (f.resource for f in findings)
        ),
        "summary": summary,
        "detail": detail,
        "indicator": indicator,
        "source": {
            "label": SERVICE_LABEL,
            "url": lead_url,
            "topic": {
                "system": codes.RULES_TOPIC_SYSTEM,
                "code": lead.code,
                "display": lead.summary,
            },
        },
    }
    if indicator != "info" and any(r.family == "documentation" for r in rules):
        card["overrideReasons"] = [dict(reason) for reason in OVERRIDE_REASONS]
    updates = suggestions_for(findings, fixes or {})
    suggestions = [dict(s) for s in extras.suggestions] + updates
    if suggestions:
        card["suggestions"] = suggestions
        if len(suggestions) > 1:
            card["selectionBehavior"] = "any"
        else:
            card["selectionBehavior"] = extras.selection_behavior or "at-most-one"
    card["links"] = _links(rules, base_url)
    card["extension"] = {
        FINDINGS_EXTENSION: [
            {"rule": f.rule, "resource": f.resource, "element": f.element} for f in findings
        ],
        **extras.extension,
    }
    return card


def group_findings(findings: list[Finding], audience: str) -> list[list[Finding]]:
    """Findings -> one group per card (see the module docstring)."""
    folded_tiers = FOLDED_TIERS[audience]
    registry = load_rules()
    by_rule: dict[str, list[Finding]] = {}
    by_resource: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        rule = registry[finding.rule]
        if (
            rule.family == "documentation"
            and finding.severity in folded_tiers
            and finding.rule not in NEVER_FOLDED
        ):
            by_resource.setdefault((finding.resource, finding.severity), []).append(finding)
        else:
            by_rule.setdefault(finding.rule, []).append(finding)
    # Administrations with the same items at the same urgency share one card.
    folded: dict[tuple[str, tuple[str, ...]], list[Finding]] = {}
    for (_, severity), items in by_resource.items():
        key = (severity, tuple(sorted({f.rule for f in items})))
        folded.setdefault(key, []).extend(items)
    return [*by_rule.values(), *folded.values()]


def build_cards(
    findings: list[Finding],
    *,
    hook_instance: str,
    base_url: str,
    visit: VisitFacts,
    ctx: RuleContext,
    plan: BillingPlan,
    audience: str = AUDIENCE_BILLING,
    resources: Mapping[str, Json] | None = None,
    pruned: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """The cards for this audience: most urgent first, then by leading rule code."""
    shown = [f for f in findings if is_shown(f, audience)]
    fixes = certain_fixes(shown, resources or {}, pruned)
    cards = [
        build_card(
            group,
            hook_instance=hook_instance,
            base_url=base_url,
            visit=visit,
            ctx=ctx,
            plan=plan,
            fixes=fixes,
        )
        for group in group_findings(shown, audience)
    ]
    cards.sort(key=lambda c: (-SEVERITY_ORDER[c["indicator"]], c["source"]["topic"]["code"]))
    return cards
