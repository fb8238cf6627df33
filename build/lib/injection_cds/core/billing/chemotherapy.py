"""Chemotherapy administration of antineoplastics given SC/IM, with the drug lines.

BIL010. No I/O.
"""

from __future__ import annotations

from injection_cds.core import codes
from injection_cds.core.billing.admin_line import admin_line
from injection_cds.core.billing.classify import (
    entry_for,
    given,
    is_antineoplastic,
    is_sc_im,
)
from injection_cds.core.billing.drug_lines import drug_line
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import VisitFacts


def antineoplastic_lines(visit: VisitFacts, ctx: RuleContext) -> list[ChargeLine]:
    """BIL010: 96401 (non-hormonal) / 96402 (hormonal) per SC/IM antineoplastic, + drug line."""
    lines: list[ChargeLine] = []
    for administration in visit.administrations:
        if not (given(administration) and is_sc_im(administration)):
            continue
        if not is_antineoplastic(administration.drug, ctx.catalog):
            continue
        entry = entry_for(administration.drug, ctx.catalog)
        hormonal = entry is not None and entry.hormonal
        code = codes.CPT_CHEMO_SC_IM_HORMONAL if hormonal else codes.CPT_CHEMO_SC_IM_NONHORMONAL
        lines.append(admin_line(code, "Chemotherapy administration, SC/IM", administration, visit))
        lines.append(drug_line(administration, visit, ctx))
    return lines
