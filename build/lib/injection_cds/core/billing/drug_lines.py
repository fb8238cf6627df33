"""The drug's HCPCS line: code, units, NDC (N4) data and diagnoses. No I/O."""

from __future__ import annotations

from injection_cds.core import codes
from injection_cds.core.billing.classify import diagnoses_of, entry_for, first_ndc11, profile_of
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, VisitFacts
from injection_cds.core.units import Units, billing_units, ndc_quantity


def drug_line(administration: Administration, visit: VisitFacts, ctx: RuleContext) -> ChargeLine:
    """The drug's HCPCS line: code, units, NDC N4 data, diagnoses (J3490 when unmapped)."""
    drug = administration.drug
    entry = entry_for(drug, ctx.catalog)
    ndc11 = first_ndc11(drug)
    profile = profile_of(visit, ctx)
    strength = drug.strength if drug is not None else None
    ndc_unit = ndc_quantity(administration.dose, strength, profile) if ndc11 else None
    if entry is None or entry.hcpcs is None:
        code, units = (
            codes.HCPCS_UNCLASSIFIED_DRUG,
            Units(1, "unclassified drug: report the drug name, dose and 11-digit NDC (2400 NTE)"),
        )
    else:
        code, units = entry.hcpcs, billing_units(administration.dose, entry)
    return ChargeLine(
        code=code,
        system=codes.HCPCS,
        units=units.units,
        description=administration.drug_name,
        ndc=ndc11,
        ndc_unit=ndc_unit[0] if ndc_unit else None,
        ndc_quantity=ndc_unit[1] if ndc_unit else None,
        diagnoses=diagnoses_of(administration, visit),
        services=(administration.reference,),
        note=units.note,
        ndc_note=ndc_unit[2] if ndc_unit else None,
    )
