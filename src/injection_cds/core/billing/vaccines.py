"""Vaccines: the administration code by payer, age and counselling, and the product code.

BIL003 (lines), BIL018 (Medicare Part D vaccine), BIL019 (state-supplied), BIL020 (no
product code), DOC017 (a minor's counselling not visible). Never 96372. No I/O.

Product code: a CPT product code charted on the drug; else the CVX code through the shipped
CVX -> CPT table; else the NDC through the loaded ASP crosswalk. Medicare Part B pays
influenza (G0008), pneumococcal (G0009), hepatitis B (G0010) and COVID-19 (90480) vaccines,
and any vaccine given for an injury or a direct exposure (90471 + product); the others are
Part D and are not billed to Part B.
"""

from __future__ import annotations

from dataclasses import dataclass

from injection_cds.core import codes
from injection_cds.core.billing.admin_line import admin_line, with_note
from injection_cds.core.billing.classify import (
    diagnoses_of,
    entry_for,
    first_ndc11,
    given,
    profile_of,
)
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.codes import RouteKind
from injection_cds.core.context import RuleContext
from injection_cds.core.extraction.encounter import age_on
from injection_cds.core.facts import Administration, VisitFacts
from injection_cds.reference.catalog import is_vaccine, is_vaccine_product_code

_MEDICARE_VACCINE_CODES = {
    codes.VACCINE_INFLUENZA: codes.HCPCS_FLU_VACCINE_ADMIN,
    codes.VACCINE_PNEUMOCOCCAL: codes.HCPCS_PNEUMOCOCCAL_VACCINE_ADMIN,
    codes.VACCINE_HEPATITIS_B: codes.HCPCS_HEPB_VACCINE_ADMIN,
}


@dataclass(frozen=True)
class VaccineDose:
    """One vaccine given, as billing sees it."""

    administration: Administration
    kind: str  # codes.VACCINE_*
    components: int
    product: str | None  # CPT product code
    injury: bool  # linked to an injury or exposure diagnosis
    minor: bool  # 18 or younger on the day


@dataclass(frozen=True)
class VaccinePlan:
    """BIL003's lines, and the doses the other vaccine rules report."""

    lines: tuple[ChargeLine, ...] = ()
    doses: tuple[VaccineDose, ...] = ()
    part_d: tuple[VaccineDose, ...] = ()
    missing_product: tuple[VaccineDose, ...] = ()
    state_supplied: tuple[VaccineDose, ...] = ()
    uncounselled_minors: tuple[VaccineDose, ...] = ()


def vaccine_administrations(visit: VisitFacts, ctx: RuleContext) -> list[Administration]:
    """Completed vaccine or toxoid administrations (and orders, on order-sign)."""
    return [a for a in visit.administrations if given(a) and is_vaccine(a.drug, ctx.catalog)]


def _product(administration: Administration, ctx: RuleContext) -> str | None:
    drug = administration.drug
    if drug is None:
        return None
    for code in drug.cpt_codes:
        if is_vaccine_product_code(code):
            return code
    row = ctx.vaccine_products.for_cvx(drug.cvx)
    if row is not None:
        return row.cpt
    entry = entry_for(drug, ctx.catalog)  # the NDC through the CMS crosswalk
    if entry is not None and entry.hcpcs and is_vaccine_product_code(entry.hcpcs):
        return entry.hcpcs
    ndc11 = first_ndc11(drug)
    crosswalked = ctx.catalog.ndc_to_hcpcs.get(ndc11) if ndc11 else None
    if crosswalked and is_vaccine_product_code(crosswalked):
        return crosswalked
    return None


def vaccine_dose(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> VaccineDose:
    """What billing needs of one vaccine: kind, components, product, injury, age."""
    drug = administration.drug
    product = _product(administration, ctx)
    row = ctx.vaccine_products.for_cvx(drug.cvx if drug else None) or (
        ctx.vaccine_products.by_cpt.get(product) if product else None
    )
    entry = entry_for(drug, ctx.catalog)
    kind = row.kind if row else (entry.vaccine_kind if entry and entry.vaccine_kind else None)
    components = row.components if row else (entry.components if entry else 1)
    diagnoses = diagnoses_of(administration, visit)
    injury = any(code.upper().startswith(codes.INJURY_EXPOSURE_PREFIXES) for code in diagnoses)
    birth = visit.patient.birth_date if visit.patient else None
    day = administration.effective.date if administration.effective else None
    age = age_on(birth, day)
    return VaccineDose(
        administration=administration,
        kind=kind or codes.VACCINE_OTHER,
        components=max(components, 1),
        product=product,
        injury=injury,
        minor=age is not None and age <= codes.PEDIATRIC_COUNSELLING_MAX_AGE,
    )


def _product_line(dose: VaccineDose, visit: VisitFacts, ctx: RuleContext) -> ChargeLine | None:
    if dose.product is None:
        return None
    administration = dose.administration
    line = ChargeLine(
        code=dose.product,
        system=codes.CPT,
        units=1,
        description=administration.drug_name,
        ndc=first_ndc11(administration.drug),
        diagnoses=diagnoses_of(administration, visit),
        services=(administration.reference,),
    )
    if administration.vaccine_funding != codes.FUNDING_STATE_SUPPLIED:
        return line
    how = state_supplied_product(visit, ctx)
    if how == "omit":
        return None
    if how == codes.MODIFIER_STATE_SUPPLIED:
        return ChargeLine(**{**line.__dict__, "modifiers": (codes.MODIFIER_STATE_SUPPLIED,)})
    return with_note(line, "state-supplied (VFC) vaccine: charge $0.00")


def state_supplied_product(visit: VisitFacts, ctx: RuleContext) -> str:
    """How a VFC product line goes: the profile's choice, else SL for Medicaid, else $0."""
    chosen = profile_of(visit, ctx).state_supplied_product
    if chosen:
        return chosen
    medicaid = visit.payer.payer_class == codes.PAYER_CLASS_MEDICAID
    return codes.MODIFIER_STATE_SUPPLIED if medicaid else "zero"


class _Firsts:
    """Which "first vaccine" code is taken (90460/90471/90473): the rest are add-ons."""

    def __init__(self) -> None:
        self.taken = False
        self.addons: dict[str, list[Administration]] = {}

    def code(self, administration: Administration, oral_nasal: bool) -> str | None:
        if not self.taken:
            self.taken = True
            return (
                codes.CPT_VACCINE_ORAL_NASAL_FIRST
                if oral_nasal
                else codes.CPT_VACCINE_INJECTION_FIRST
            )
        addon = (
            codes.CPT_VACCINE_ORAL_NASAL_ADDITIONAL
            if oral_nasal
            else codes.CPT_VACCINE_INJECTION_ADDITIONAL
        )
        self.addons.setdefault(addon, []).append(administration)
        return None


def vaccine_plan(visit: VisitFacts, ctx: RuleContext) -> VaccinePlan:
    """BIL003: the administration and product lines of every vaccine of the visit."""
    medicare = visit.payer.payer_class == codes.PAYER_CLASS_MEDICARE
    doses = [vaccine_dose(a, visit, ctx) for a in vaccine_administrations(visit, ctx)]
    lines: list[ChargeLine] = []
    firsts = _Firsts()
    part_d: list[VaccineDose] = []
    uncounselled: list[VaccineDose] = []
    for dose in doses:
        administration = dose.administration
        if medicare and dose.kind not in codes.MEDICARE_PART_B_VACCINES and not dose.injury:
            part_d.append(dose)
            continue
        if medicare and dose.kind in _MEDICARE_VACCINE_CODES:
            line = admin_line(
                _MEDICARE_VACCINE_CODES[dose.kind],
                "Medicare vaccine administration",
                administration,
                visit,
            )
            if dose.kind == codes.VACCINE_HEPATITIS_B:
                line = with_note(
                    line, "Part B covers it for patients at medium or high risk of hepatitis B"
                )
            lines.append(line)
        elif dose.kind == codes.VACCINE_COVID19:
            lines.append(
                admin_line(
                    codes.CPT_COVID_VACCINE_ADMIN,
                    "COVID-19 vaccine administration",
                    administration,
                    visit,
                )
            )
        elif dose.minor and visit.counselling_documented and not medicare:
            firsts.taken = True
            lines.append(
                admin_line(
                    codes.CPT_VACCINE_COUNSEL_FIRST,
                    "Immunization admin with counselling",
                    administration,
                    visit,
                )
            )
            if dose.components > 1:
                extra = admin_line(
                    codes.CPT_VACCINE_COUNSEL_ADDITIONAL,
                    "each additional component",
                    administration,
                    visit,
                )
                lines.append(ChargeLine(**{**extra.__dict__, "units": dose.components - 1}))
        else:
            if dose.minor:
                uncounselled.append(dose)
            oral_nasal = administration.effective_route_kind == RouteKind.NOT_INJECTION
            code = firsts.code(administration, oral_nasal)
            if code is not None:
                line = admin_line(code, "Immunization administration", administration, visit)
                if medicare:
                    line = with_note(line, "Part B: given for an injury or exposure")
                lines.append(line)
        product = _product_line(dose, visit, ctx)
        if product is not None:
            lines.append(product)
    for code, group in firsts.addons.items():
        first_line = admin_line(
            code, "Immunization administration, each additional", group[0], visit
        )
        diagnoses = tuple(dict.fromkeys(d for a in group for d in diagnoses_of(a, visit)))
        lines.append(
            ChargeLine(
                **{
                    **first_line.__dict__,
                    "units": len(group),
                    "diagnoses": diagnoses,
                    "services": tuple(a.reference for a in group),
                }
            )
        )
    billed = [d for d in doses if d not in part_d]
    return VaccinePlan(
        lines=tuple(lines),
        doses=tuple(doses),
        part_d=tuple(part_d),
        missing_product=tuple(d for d in billed if d.product is None),
        state_supplied=tuple(
            d for d in billed if d.administration.vaccine_funding == codes.FUNDING_STATE_SUPPLIED
        ),
        uncounselled_minors=tuple(uncounselled),
    )
