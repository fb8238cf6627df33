"""The billing plan: every claim line of a visit, computed once per call. No I/O.

A named pipeline stage between facts and rules (facts → plan → rules → cards): the billing
rules read their lines from it and the card builder turns the same lines into the
``org.injectioncds.lines`` extension and the ChargeItem suggestions, so nothing is computed
twice and the card can never disagree with the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from injection_cds.core.billing.allergen import allergen_lines
from injection_cds.core.billing.chemotherapy import antineoplastic_lines
from injection_cds.core.billing.classify import sc_im_injections
from injection_cds.core.billing.estimate import Estimate, estimate
from injection_cds.core.billing.injections import injection_lines
from injection_cds.core.billing.intravenous import iv_lines
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.billing.vaccines import vaccine_administrations, vaccine_lines
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, VisitFacts


@dataclass(frozen=True)
class BillingPlan:
    """The lines of each billing family for one visit (empty tuples where none apply)."""

    injections: tuple[Administration, ...] = ()  # SC/IM administrations billed with 96372
    injection_lines: tuple[ChargeLine, ...] = ()  # BIL001: 96372 lines, then drug lines
    iv_lines: tuple[ChargeLine, ...] = ()  # BIL002
    vaccines: tuple[Administration, ...] = ()
    vaccine_lines: tuple[ChargeLine, ...] = ()  # BIL003
    antineoplastic_lines: tuple[ChargeLine, ...] = ()  # BIL010
    allergen_lines: tuple[ChargeLine, ...] = ()  # BIL013
    injection_estimate: Estimate | None = None  # BIL001's estimate, from a fee schedule

    @property
    def all_lines(self) -> tuple[ChargeLine, ...]:
        """Every line of the visit, family by family (what MUEs count)."""
        return (
            self.injection_lines
            + self.iv_lines
            + self.vaccine_lines
            + self.antineoplastic_lines
            + self.allergen_lines
        )


EMPTY_PLAN = BillingPlan()


def plan_billing(visit: VisitFacts, ctx: RuleContext) -> BillingPlan:
    """The visit's billing plan (the stage between facts and rules)."""
    injections = sc_im_injections(visit, ctx)
    lines = injection_lines(injections, visit, ctx)
    return BillingPlan(
        injections=tuple(injections),
        injection_lines=tuple(lines),
        iv_lines=tuple(iv_lines(visit, ctx)),
        vaccines=tuple(vaccine_administrations(visit, ctx)),
        vaccine_lines=tuple(vaccine_lines(visit, ctx)),
        antineoplastic_lines=tuple(antineoplastic_lines(visit, ctx)),
        allergen_lines=tuple(allergen_lines(visit, ctx)),
        injection_estimate=estimate(lines, visit, ctx) if lines else None,
    )
