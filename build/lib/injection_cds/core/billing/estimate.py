"""A reimbursement estimate from the payer profile's configured fee schedule. No I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from injection_cds.core.billing.classify import is_facility, profile_of
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import VisitFacts


@dataclass(frozen=True)
class Estimate:
    """A reimbursement estimate from a configured fee schedule."""

    amount: Decimal
    schedule: str
    year: int | None
    priced: int  # lines priced
    unpriced: tuple[str, ...] = field(default=())  # codes the schedule has no rate for


def estimate(lines: Iterable[ChargeLine], visit: VisitFacts, ctx: RuleContext) -> Estimate | None:
    """Sum of rate × units over the lines, from the payer profile's fee schedule, if any."""
    name = profile_of(visit, ctx).fee_schedule
    schedule = ctx.settings.fee_schedules.get(name) if name else None
    if schedule is None:
        return None
    facility = is_facility(visit, ctx)
    total, priced, unpriced = Decimal(0), 0, []
    for line in lines:
        rate = schedule.rate(line.code, line.modifiers, facility=facility)
        if rate is None or line.units is None:
            unpriced.append(line.code)
            continue
        total += rate * line.units
        priced += 1
    return Estimate(total, schedule.name, schedule.year, priced, tuple(dict.fromkeys(unpriced)))
