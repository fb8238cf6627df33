"""Run the registered rules over the facts of one visit: facts -> findings.

The one code path shared by the HTTP service, ``injection-cds check`` and the batch audit.
"""

from __future__ import annotations

from injection_cds.core.billing import BillingPlan
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import VisitFacts
from injection_cds.rules import rules_in_order
from injection_cds.rules.registry import Finding


def evaluate(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> list[Finding]:
    """Every finding of every rule that applies to this visit's hook, in rule order."""
    findings: list[Finding] = []
    for rule in rules_in_order():
        if rule.hooks is not None and visit.hook not in rule.hooks:
            continue
        findings.extend(rule.function(visit, ctx, plan))
    return findings
