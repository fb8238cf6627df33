"""Vaccine and toxoid administration codes by payer, age and counselling.

BIL003. No I/O.
"""

from __future__ import annotations

from injection_cds.core import codes
from injection_cds.core.billing.admin_line import admin_line, with_note
from injection_cds.core.billing.classify import (
    diagnoses_of,
    entry_for,
    first_ndc11,
    given,
)
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.codes import RouteKind
from injection_cds.core.context import RuleContext
from injection_cds.core.extract import age_on
from injection_cds.core.facts import Administration, VisitFacts
from injection_cds.reference.catalog import is_vaccine

_MEDICARE_VACCINE_CODES = {
    codes.VACCINE_INFLUENZA: codes.HCPCS_FLU_VACCINE_ADMIN,
    codes.VACCINE_PNEUMOCOCCAL: codes.HCPCS_PNEUMOCOCCAL_VACCINE_ADMIN,
    codes.VACCINE_HEPATITIS_B: codes.HCPCS_HEPB_VACCINE_ADMIN,
}


def vaccine_administrations(visit: VisitFacts, ctx: RuleContext) -> list[Administration]:
    """Completed vaccine or toxoid administrations (and orders, on order-sign)."""
    return [a for a in visit.administrations if given(a) and is_vaccine(a.drug, ctx.catalog)]


def vaccine_lines(visit: VisitFacts, ctx: RuleContext) -> list[ChargeLine]:
    """BIL003: the administration code of each vaccine by payer, age, counselling and route.

    Medicare: G0008 flu, G0009 pneumococcal, G0010 hepatitis B. COVID-19: 90480 (any payer).
    Age ≤ 18 with counselling documented: 90460 per vaccine, +90461 per further component.
    Otherwise 90471/+90472 (injection) and 90473/+90474 (oral/nasal); one "first" code per
    encounter. A CPT vaccine product code charted on the drug is listed as its own line.
    """
    lines: list[ChargeLine] = []
    first_taken = False
    medicare = visit.payer.payer_class == codes.PAYER_CLASS_MEDICARE
    birth = visit.patient.birth_date if visit.patient else None
    for administration in vaccine_administrations(visit, ctx):
        entry = entry_for(administration.drug, ctx.catalog)
        kind = entry.vaccine_kind if entry else None
        components = entry.components if entry else 1
        day = administration.effective.date if administration.effective else None
        age = age_on(birth, day)
        if medicare and kind in _MEDICARE_VACCINE_CODES:
            lines.append(
                admin_line(
                    _MEDICARE_VACCINE_CODES[kind],
                    "Medicare vaccine administration",
                    administration,
                    visit,
                )
            )
        elif kind == codes.VACCINE_COVID19:
            lines.append(
                admin_line(
                    codes.CPT_COVID_VACCINE_ADMIN,
                    "COVID-19 vaccine administration, IM",
                    administration,
                    visit,
                )
            )
        elif age is not None and age <= 18 and visit.counselling_documented:
            lines.append(
                admin_line(
                    codes.CPT_VACCINE_COUNSEL_FIRST,
                    "Immunization admin with counselling, first component",
                    administration,
                    visit,
                )
            )
            if components > 1:
                extra = admin_line(
                    codes.CPT_VACCINE_COUNSEL_ADDITIONAL,
                    "each additional component",
                    administration,
                    visit,
                )
                lines.append(ChargeLine(**{**extra.__dict__, "units": components - 1}))
        else:
            oral_nasal = administration.effective_route_kind == RouteKind.NOT_INJECTION
            if oral_nasal:
                code = (
                    codes.CPT_VACCINE_ORAL_NASAL_ADDITIONAL
                    if first_taken
                    else codes.CPT_VACCINE_ORAL_NASAL_FIRST
                )
            else:
                code = (
                    codes.CPT_VACCINE_INJECTION_ADDITIONAL
                    if first_taken
                    else codes.CPT_VACCINE_INJECTION_FIRST
                )
            first_taken = True
            line = admin_line(code, "Immunization administration", administration, visit)
            if medicare:
                line = with_note(
                    line,
                    "Medicare Part B covers this vaccine only when related "
                    "to an injury or exposure; routine ones are Part D",
                )
            lines.append(line)
        drug = administration.drug
        for product in drug.cpt_codes if drug else ():
            lines.append(
                ChargeLine(
                    code=product,
                    system=codes.CPT,
                    units=1,
                    description=administration.drug_name,
                    ndc=first_ndc11(drug),
                    diagnoses=diagnoses_of(administration, visit),
                    services=(administration.reference,),
                )
            )
    return lines
