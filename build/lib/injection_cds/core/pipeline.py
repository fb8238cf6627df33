"""The core's stages for one visit, with no I/O: facts → billing plan → rules.

``evaluate_visit`` is what the HTTP service, ``injection-cds check`` and both audit engines
run once they have a visit's facts; the card builder then reads the same plan and findings.
"""

from __future__ import annotations

from dataclasses import dataclass

from injection_cds.core.billing import BillingPlan, plan_billing
from injection_cds.core.context import RuleContext
from injection_cds.core.engine import evaluate
from injection_cds.core.facts import VisitFacts
from injection_cds.rules.registry import Finding


@dataclass(frozen=True)
class Evaluation:
    """A visit's facts, its billing plan and the findings of every rule."""

    visit: VisitFacts
    plan: BillingPlan
    findings: list[Finding]


def evaluate_visit(visit: VisitFacts, ctx: RuleContext) -> Evaluation:
    """Plan the visit's billing once, then run the rules over the facts and the plan."""
    plan = plan_billing(visit, ctx)
    return Evaluation(visit=visit, plan=plan, findings=evaluate(visit, ctx, plan))
