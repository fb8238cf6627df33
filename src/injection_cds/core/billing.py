"""Charge lines: codes, units, modifiers and NDC (N4) lines, computed from the facts. No I/O.

RULES.md "Billing rules" and SOURCES-96372.md §1.3, §3.4, §5. Decisions made here:

* **Units** and the **NDC quantity**: ``units.py`` (UCUM conversion, "up to X" codes, ML/UN
  from the product strength). A line whose units cannot be computed is listed without
  ``units`` and says why.
* **Separate injections**: one 96372 per administration; drugs mixed in one syringe are one
  injection — charted as one MedicationAdministration of a compounded Medication, or as a
  MedicationAdministration whose ``partOf`` names the first one (RULES.md BIL001).
* **Repeat convention** (BIL012) from the payer profile: ``59`` (default, CPT Assistant May
  2010), ``XS``, ``76`` (Cahaba GBA), or ``units`` (one line with N units).
* **NDC** in the 11-digit 5-4-2 form (digits only) with qualifier N4, its unit qualifier and
  quantity (``units.ndc_quantity``).
* **Diagnoses**: the ICD-10-CM codes of the administration's reasons, else the encounter's.
* Not computed: JW/JZ (single-dose container wastage; the chart does not say single- or
  multi-dose), NCCI PTP pairs (load the CMS file; SOURCES-96372.md §2.6).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from injection_cds.core import codes
from injection_cds.core.codes import RouteKind
from injection_cds.core.context import PayerProfile, RuleContext
from injection_cds.core.extract import age_on
from injection_cds.core.facts import Administration, Drug, VisitFacts
from injection_cds.core.ndc import normalise_ndc
from injection_cds.core.units import Units, billing_units, ndc_quantity
from injection_cds.reference.catalog import CatalogEntry, DrugCatalog, is_vaccine

_T = TypeVar("_T")
_PER_VISIT_KEPT = 8


def per_visit(
    compute: Callable[[VisitFacts, RuleContext], list[_T]],
) -> Callable[[VisitFacts, RuleContext], list[_T]]:
    """Compute a visit's lines once: the rules and the card extras all ask for them.

    The facts and the rule context are immutable, so the answer for the same two objects
    is the same. The memo keeps the last few (visit, context, answer) triples, holding the
    objects themselves (so an ``id`` cannot be reused while it is in the memo) and
    compared by identity; every caller gets its own copy of the list.
    """
    memo: dict[tuple[int, int], tuple[VisitFacts, RuleContext, list[_T]]] = {}

    @functools.wraps(compute)
    def memoised(visit: VisitFacts, ctx: RuleContext) -> list[_T]:
        key = (id(visit), id(ctx))
        hit = memo.get(key)
        if hit is not None and hit[0] is visit and hit[1] is ctx:
            return list(hit[2])
        result = compute(visit, ctx)
        if len(memo) >= _PER_VISIT_KEPT:
            memo.clear()
        memo[key] = (visit, ctx, list(result))
        return result

    return memoised


# --- lines ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChargeLine:
    """One claim line (RULES.md ``org.injectioncds.lines`` entry) and where it comes from."""

    code: str
    system: str
    units: int | None
    description: str
    modifiers: tuple[str, ...] = ()
    ndc: str | None = None
    ndc_unit: str | None = None
    ndc_quantity: Decimal | None = None
    diagnoses: tuple[str, ...] = ()
    services: tuple[str, ...] = ()  # MedicationAdministration (or MedicationRequest) refs
    note: str | None = None
    ndc_note: str | None = None  # a caveat on the NDC quantity, shown once per card

    def as_json(self) -> dict[str, Any]:
        """The RULES.md line shape; absent values are left out (no null, no empty list)."""
        line: dict[str, Any] = {"code": self.code, "system": self.system}
        if self.units is not None:
            line["units"] = self.units
        if self.modifiers:
            line["modifiers"] = list(self.modifiers)
        if self.ndc:
            line["ndc"] = self.ndc
            if self.ndc_unit and self.ndc_quantity is not None:
                line["ndcUnit"] = self.ndc_unit
                line["ndcQuantity"] = json_number(self.ndc_quantity)
        if self.diagnoses:
            line["diagnoses"] = list(self.diagnoses)
        return line


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number (an int when integral), at most 3 decimals (NUCC)."""
    rounded = value.quantize(Decimal("0.001")).normalize()
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def system_of(code: str) -> str:
    """CPT for five digits, HCPCS Level II for a letter and four digits."""
    return codes.CPT if code[:1].isdigit() else codes.HCPCS


def first_ndc11(drug: Drug | None) -> str | None:
    """The first well-formed NDC of the drug in its 11-digit form."""
    if drug is None:
        return None
    for raw in drug.ndcs:
        ndc11 = normalise_ndc(raw)
        if ndc11:
            return ndc11
    return None


def diagnoses_of(administration: Administration, visit: VisitFacts) -> tuple[str, ...]:
    """ICD-10-CM codes linked to the administration, else the encounter's; de-duplicated."""
    found: list[str] = []
    reasons = [r for r in administration.reasons if r.kind != "procedure"]
    if reasons:
        for reason in reasons:
            found.extend(reason.icd10cm)
    elif visit.encounter is not None:
        for diagnosis in visit.encounter.diagnoses:
            found.extend(diagnosis.icd10cm_codes())
    return tuple(dict.fromkeys(found))


def profile_of(visit: VisitFacts, ctx: RuleContext) -> PayerProfile:
    """The payer profile for the visit's payer."""
    return ctx.settings.profile_for(visit.payer.payer_class, visit.payer.payer_ids)


def entry_for(drug: Drug | None, catalog: DrugCatalog) -> CatalogEntry | None:
    """The catalog entry, identified with the drug's NDC through any loaded crosswalk."""
    return catalog.identify(drug, first_ndc11(drug))


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


# --- which administrations bill how ----------------------------------------------------------
def is_telehealth(visit: VisitFacts, ctx: RuleContext) -> bool:
    """Class VR or a telehealth place of service (02, 10)."""
    encounter = visit.encounter
    if encounter is None:
        return False
    return encounter.class_code == "VR" or (
        encounter.place_of_service in ctx.settings.telehealth_places_of_service
    )


def is_facility(visit: VisitFacts, ctx: RuleContext) -> bool:
    """A facility place of service (RuleSettings.facility_places_of_service)."""
    encounter = visit.encounter
    return encounter is not None and (
        encounter.place_of_service in ctx.settings.facility_places_of_service
    )


def is_inpatient(visit: VisitFacts, ctx: RuleContext) -> bool:
    """An inpatient place of service (RuleSettings.inpatient_places_of_service)."""
    encounter = visit.encounter
    return encounter is not None and (
        encounter.place_of_service in ctx.settings.inpatient_places_of_service
    )


def is_self_administered(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> bool:
    """The patient gave it, or the drug is on the payer profile's SAD list (names or HCPCS)."""
    if any(p.is_patient for p in administration.performers):
        return True
    drug = administration.drug
    if drug is None:
        return False
    entry = entry_for(drug, ctx.catalog)
    listed = {item.lower() for item in profile_of(visit, ctx).self_administered_drugs}
    if entry is not None and (
        (entry.hcpcs or "").lower() in listed or entry.name.lower() in listed
    ):
        return True
    text = drug.searchable_text()
    return any(item and item in text for item in listed)


def is_antineoplastic(drug: Drug | None, catalog: DrugCatalog) -> bool:
    """HCPCS J9000-J9999, or flagged antineoplastic in the catalog."""
    entry = entry_for(drug, catalog)
    if entry is None:
        return False
    hcpcs = (entry.hcpcs or "").upper()
    return entry.antineoplastic or hcpcs.startswith(codes.ANTINEOPLASTIC_HCPCS_PREFIX)


def is_allergen(drug: Drug | None, catalog: DrugCatalog) -> bool:
    """Allergenic extract (allergen immunotherapy)."""
    entry = entry_for(drug, catalog)
    return entry is not None and entry.allergen


def linked_procedures(administration: Administration, visit: VisitFacts) -> list[str]:
    """Surgical Procedures (or Procedures not in the call) the administration is linked to."""
    known = {p.reference: p for p in visit.procedures}
    linked = [r.reference for r in administration.reasons if r.kind == "procedure"]
    linked += [p for p in administration.part_of if p.startswith("Procedure/")]
    found = []
    for reference in linked:
        if reference is None:
            continue
        key = "/".join(reference.split("/")[-2:])
        procedure = known.get(key)
        if procedure is None or procedure.surgical:
            found.append(key)
    return found


def given(administration: Administration) -> bool:
    """Completed (orders: to be given) and identified."""
    return administration.completed and administration.drug is not None


def is_sc_im(administration: Administration) -> bool:
    """Route SC or IM (as charted, else the order's)."""
    return administration.effective_route_kind in codes.SC_IM_ROUTES


def is_iv_or_ia(administration: Administration) -> bool:
    """IV push, IV infusion, IV unspecified or intra-arterial."""
    kind = administration.effective_route_kind
    return kind in codes.IV_ROUTES or kind == RouteKind.INTRA_ARTERIAL


def excluded_from_drug_administration(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> bool:
    """Billed another way or not at all: vaccine, allergen, antineoplastic, SAD, integral."""
    drug = administration.drug
    return (
        is_vaccine(drug, ctx.catalog)
        or is_allergen(drug, ctx.catalog)
        or is_antineoplastic(drug, ctx.catalog)
        or is_self_administered(administration, visit, ctx)
        or bool(linked_procedures(administration, visit))
    )


@per_visit
def sc_im_injections(visit: VisitFacts, ctx: RuleContext) -> list[Administration]:
    """The administrations billed with 96372 (before the telehealth check)."""
    return [
        a
        for a in visit.administrations
        if given(a) and is_sc_im(a) and not excluded_from_drug_administration(a, visit, ctx)
    ]


def separate_injections(administrations: list[Administration]) -> list[list[Administration]]:
    """Group administrations into injections: ``partOf`` another one = mixed in its syringe."""
    groups: dict[str, list[Administration]] = {}
    for administration in administrations:
        parent = next(
            (p for p in administration.part_of if p in groups),
            None,
        )
        if parent is not None:
            groups[parent].append(administration)
        else:
            groups[administration.reference] = [administration]
    return list(groups.values())


def date_of_service(administration: Administration) -> str:
    """The administration's date (YYYY-MM-DD), or "undated"."""
    effective = administration.effective
    if effective is not None and effective.date is not None:
        return effective.date.isoformat()
    return "undated"


@per_visit
def injection_lines(visit: VisitFacts, ctx: RuleContext) -> list[ChargeLine]:
    """BIL001: 96372 per separate injection (repeat convention), then each drug's line.

    None on an inpatient stay: the administration and the drug are part of the inpatient
    payment (BIL005 says so), and a line here would mislead the coder.
    """
    administrations = sc_im_injections(visit, ctx)
    if not administrations or is_inpatient(visit, ctx):
        return []
    convention = profile_of(visit, ctx).repeat_convention
    admin_lines: list[ChargeLine] = []
    by_date: dict[str, list[list[Administration]]] = {}
    for group in separate_injections(administrations):
        by_date.setdefault(date_of_service(group[0]), []).append(group)
    for groups in by_date.values():
        admin_lines.extend(_repeat_lines(groups, visit, convention))
    drug_lines = [drug_line(a, visit, ctx) for a in administrations]
    return admin_lines + drug_lines


def _repeat_lines(
    groups: list[list[Administration]], visit: VisitFacts, convention: str
) -> list[ChargeLine]:
    def diagnoses(group: Iterable[Administration]) -> tuple[str, ...]:
        found: list[str] = []
        for administration in group:
            found.extend(diagnoses_of(administration, visit))
        return tuple(dict.fromkeys(found))

    description = "Therapeutic, prophylactic or diagnostic injection; SC or IM"
    if convention == codes.REPEAT_UNITS:
        every = [a for group in groups for a in group]
        return [
            ChargeLine(
                code=codes.CPT_INJECTION_SC_IM,
                system=codes.CPT,
                units=len(groups),
                description=description,
                diagnoses=diagnoses(every),
                services=tuple(a.reference for a in every),
            )
        ]
    lines = []
    for index, group in enumerate(groups):
        lines.append(
            ChargeLine(
                code=codes.CPT_INJECTION_SC_IM,
                system=codes.CPT,
                units=1,
                description=description,
                modifiers=(convention,) if index > 0 else (),
                diagnoses=diagnoses(group),
                services=tuple(a.reference for a in group),
            )
        )
    return lines


# --- IV push, infusion, intra-arterial (BIL002) ----------------------------------------------
@per_visit
def iv_lines(visit: VisitFacts, ctx: RuleContext) -> list[ChargeLine]:
    """BIL002: one initial IV service, add-on pushes, intra-arterial; then the drug lines.

    Infusion 96365 is taken as the initial service before push 96374; +96375 per new drug
    pushed, +96376 for a repeat push of the same drug (facility claims only), 96373 per
    intra-arterial injection; then the drug lines. IV route unspecified: no code, a note.
    """
    administrations = [
        a
        for a in visit.administrations
        if given(a) and is_iv_or_ia(a) and not excluded_from_drug_administration(a, visit, ctx)
    ]
    if not administrations:
        return []
    facility = is_facility(visit, ctx)
    lines: list[ChargeLine] = []
    infusions = [a for a in administrations if a.effective_route_kind == RouteKind.IV_INFUSION]
    pushes = [a for a in administrations if a.effective_route_kind == RouteKind.IV_PUSH]
    initial_taken = False
    if infusions:
        first = infusions[0]
        lines.append(
            _admin_line(codes.CPT_IV_INFUSION_INITIAL, "IV infusion, initial", first, visit)
        )
        initial_taken = True
        if len(infusions) > 1:
            lines[-1] = _with_note(
                lines[-1],
                "additional infusions: +96366/+96367/+96368 by time and drug (check times)",
            )
    pushed: set[str] = set()
    for push in pushes:
        name = (entry_for(push.drug, ctx.catalog) or _named(push)).name.lower()
        if not initial_taken:
            lines.append(_admin_line(codes.CPT_IV_PUSH_INITIAL, "IV push, initial", push, visit))
            initial_taken = True
        elif name not in pushed:
            lines.append(
                _admin_line(
                    codes.CPT_IV_PUSH_ADDITIONAL_NEW_DRUG,
                    "IV push, each additional new drug",
                    push,
                    visit,
                )
            )
        elif facility:
            lines.append(
                _admin_line(
                    codes.CPT_IV_PUSH_ADDITIONAL_SAME_DRUG,
                    "IV push, additional, same drug (facility)",
                    push,
                    visit,
                )
            )
        pushed.add(name)
    for arterial in administrations:
        if arterial.effective_route_kind == RouteKind.INTRA_ARTERIAL:
            lines.append(
                _admin_line(
                    codes.CPT_INJECTION_INTRA_ARTERIAL, "Intra-arterial injection", arterial, visit
                )
            )
    lines.extend(drug_line(a, visit, ctx) for a in administrations)
    return lines


def _named(administration: Administration) -> CatalogEntry:
    return CatalogEntry(name=administration.drug_name, hcpcs=None, amount=None, unit=None)


def _admin_line(
    code: str, description: str, administration: Administration, visit: VisitFacts
) -> ChargeLine:
    return ChargeLine(
        code=code,
        system=system_of(code),
        units=1,
        description=description,
        diagnoses=diagnoses_of(administration, visit),
        services=(administration.reference,),
    )


def _with_note(line: ChargeLine, note: str) -> ChargeLine:
    return ChargeLine(**{**line.__dict__, "note": note})


# --- vaccines (BIL003) -----------------------------------------------------------------------
_MEDICARE_VACCINE_CODES = {
    codes.VACCINE_INFLUENZA: codes.HCPCS_FLU_VACCINE_ADMIN,
    codes.VACCINE_PNEUMOCOCCAL: codes.HCPCS_PNEUMOCOCCAL_VACCINE_ADMIN,
    codes.VACCINE_HEPATITIS_B: codes.HCPCS_HEPB_VACCINE_ADMIN,
}


@per_visit
def vaccine_administrations(visit: VisitFacts, ctx: RuleContext) -> list[Administration]:
    """Completed vaccine or toxoid administrations (and orders, on order-sign)."""
    return [a for a in visit.administrations if given(a) and is_vaccine(a.drug, ctx.catalog)]


@per_visit
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
                _admin_line(
                    _MEDICARE_VACCINE_CODES[kind],
                    "Medicare vaccine administration",
                    administration,
                    visit,
                )
            )
        elif kind == codes.VACCINE_COVID19:
            lines.append(
                _admin_line(
                    codes.CPT_COVID_VACCINE_ADMIN,
                    "COVID-19 vaccine administration, IM",
                    administration,
                    visit,
                )
            )
        elif age is not None and age <= 18 and visit.counselling_documented:
            lines.append(
                _admin_line(
                    codes.CPT_VACCINE_COUNSEL_FIRST,
                    "Immunization admin with counselling, first component",
                    administration,
                    visit,
                )
            )
            if components > 1:
                extra = _admin_line(
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
            line = _admin_line(code, "Immunization administration", administration, visit)
            if medicare:
                line = _with_note(
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


# --- antineoplastics (BIL010) and allergen immunotherapy (BIL013) ----------------------------
@per_visit
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
        lines.append(_admin_line(code, "Chemotherapy administration, SC/IM", administration, visit))
        lines.append(drug_line(administration, visit, ctx))
    return lines


@per_visit
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
def all_lines(visit: VisitFacts, ctx: RuleContext) -> list[ChargeLine]:
    """Every line the visit bills (nothing from a telehealth encounter)."""
    if is_telehealth(visit, ctx):
        return []
    return (
        injection_lines(visit, ctx)
        + iv_lines(visit, ctx)
        + vaccine_lines(visit, ctx)
        + antineoplastic_lines(visit, ctx)
        + allergen_lines(visit, ctx)
    )


def units_by_code(lines: Iterable[ChargeLine]) -> dict[str, int]:
    """Units summed per code (MUEs are per date of service across lines)."""
    totals: dict[str, int] = {}
    for line in lines:
        if line.units is not None:
            totals[line.code] = totals.get(line.code, 0) + line.units
    return totals


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


def lines_json(lines: Iterable[ChargeLine]) -> list[Mapping[str, Any]]:
    """The RULES.md ``org.injectioncds.lines`` entries."""
    return [line.as_json() for line in lines]
