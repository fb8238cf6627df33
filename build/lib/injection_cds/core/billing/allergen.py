"""Allergen immunotherapy: 95115 for one injection on a date, 95117 for two or more.

BIL013. No I/O.
"""

from __future__ import annotations

from injection_cds.core import codes
from injection_cds.core.billing.classify import (
    date_of_service,
    diagnoses_of,
    given,
    is_allergen,
)
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, VisitFacts


def allergen_lines(visit: VisitFacts, ctx: RuleContext) -> list[ChargeLine]:
    """BIL013: 95115 for one allergen injection on a date, 95117 for two or more."""
    by_date: dict[str, list[Administration]] = {}
    for administration in visit.administrations:
        if given(administration) and is_allergen(administration.drug, ctx.catalog):
            by_date.setdefault(date_of_service(administration), []).append(administration)
    lines = []
    for group in by_date.values():
        code = codes.CPT_ALLERGEN_SINGLE if len(group) == 1 else codes.CPT_ALLERGEN_MULTIPLE
        diagnoses: list[str] = []
        for administration in group:
            diagnoses.extend(diagnoses_of(administration, visit))
        lines.append(
            ChargeLine(
                code=code,
                system=codes.CPT,
                units=1,
                description="Allergen immunotherapy, professional services",
                diagnoses=tuple(dict.fromkeys(diagnoses)),
                services=tuple(a.reference for a in group),
            )
        )
    return lines


# --- totals: MUE (BIL009) and the estimate ------------------------------------------------------
