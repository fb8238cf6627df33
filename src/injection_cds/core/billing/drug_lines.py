"""The drug's HCPCS line: code, units, NDC (N4) data, diagnoses and what it pays. No I/O.

The drug is identified in the CMS quarter of the date of service; an NDC with several codes
is decided by a sourced rule (``reference/data/code-choices.csv``) or shown with every code;
units and the N4 quantity come from the crosswalk package (``core/units.py``); on Medicare
the line names its Part B payment limit, on a facility claim its OPPS status indicator, each
with the file it comes from.
"""

from __future__ import annotations

from decimal import Decimal

from injection_cds.core import codes
from injection_cds.core.billing.classify import (
    diagnoses_of,
    entry_for,
    first_ndc11,
    is_facility,
    profile_of,
)
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.codes import RouteKind
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, VisitFacts
from injection_cds.core.units import NDC_UNKNOWN_NOTE, Units, billing_units, ndc_quantity
from injection_cds.reference.catalog import CatalogEntry

_ROUTE_WORD = {RouteKind.INTRAMUSCULAR: "im", RouteKind.SUBCUTANEOUS: "sc"}


def drug_entry(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> CatalogEntry | None:
    """The drug's entry in the quarter of the date of service.

    An ambiguous NDC is decided by a sourced rule where one exists (ESAs: ESRD on dialysis
    or not); otherwise it keeps its alternatives.
    """
    day = administration.effective.date if administration.effective else None
    catalog = ctx.catalog.at(day)
    entry = entry_for(administration.drug, catalog)
    if entry is None or not entry.alternatives:
        return entry
    diagnoses = set(diagnoses_of(administration, visit))
    if visit.encounter is not None:
        diagnoses.update(c for d in visit.encounter.diagnoses for c in d.icd10cm_codes())
    kind = administration.effective_route_kind
    route = _ROUTE_WORD.get(kind) if kind is not None else None
    if kind in codes.IV_ROUTES:
        route = "iv"
    return catalog.decide(
        entry,
        esrd_on_dialysis=bool(diagnoses & codes.ICD10_ESRD_ON_DIALYSIS),
        route=route,
    )


def drug_line(administration: Administration, visit: VisitFacts, ctx: RuleContext) -> ChargeLine:
    """The drug's HCPCS line: code, units, NDC N4 data, diagnoses (J3490 when unmapped)."""
    drug = administration.drug
    entry = drug_entry(administration, visit, ctx)
    ndc11 = (entry.ndc11 if entry is not None else None) or first_ndc11(drug)
    profile = profile_of(visit, ctx)
    strength = drug.strength if drug is not None else None
    dose = administration.effective_dose
    package = entry.package if entry is not None else None
    ndc_unit = ndc_quantity(dose, strength, profile, package, entry) if ndc11 else None
    ndc_note = ndc_unit[2] if ndc_unit else (NDC_UNKNOWN_NOTE if ndc11 and dose else None)
    if entry is None or entry.hcpcs is None:
        code, units = (
            codes.HCPCS_UNCLASSIFIED_DRUG,
            Units(1, "unclassified drug: report the drug name, dose and 11-digit NDC (2400 NTE)"),
        )
    else:
        code, units = entry.hcpcs, billing_units(dose, entry, strength)
    note = units.note
    if entry is not None and entry.alternatives:
        note = _joined(note, ambiguity_note(entry))
    elif entry is not None and entry.decided_by is not None:
        note = _joined(note, f"{code} chosen: {entry.decided_by.source}")
    return ChargeLine(
        code=code,
        system=entry.system if entry is not None and entry.hcpcs else codes.HCPCS,
        units=units.units,
        description=administration.drug_name,
        ndc=ndc11,
        ndc_unit=ndc_unit[0] if ndc_unit else None,
        ndc_quantity=ndc_unit[1] if ndc_unit else None,
        diagnoses=diagnoses_of(administration, visit),
        services=(administration.reference,),
        note=note,
        ndc_note=ndc_note,
        payment=payment_text(entry, units.units, visit, ctx) if entry is not None else None,
        reference=reference_text(entry, ctx),
        drug=True,
    )


def reference_text(entry: CatalogEntry | None, ctx: RuleContext) -> str | None:
    """``CMS 2026Q1 (asp-crosswalk-2026q1.csv)``: the quarter the drug's code was read in."""
    if entry is None or entry.quarter is None:
        return None
    quarter = next((q for q in ctx.catalog.quarters if q.label == entry.quarter), None)
    crosswalk = quarter.files.get("crosswalk") if quarter is not None else None
    return f"CMS {entry.quarter}" + (f" ({crosswalk.name})" if crosswalk else "")


def _joined(first: str | None, second: str) -> str:
    return f"{first}; {second}" if first else second


def ambiguity_note(entry: CatalogEntry) -> str:
    """Both codes, and why the service does not choose (never the last row read)."""
    every = ", ".join((entry.hcpcs or "", *entry.alternatives))
    by = f"NDC {entry.ndc11}" if entry.ndc11 else "the drug's name"
    return (
        f"ambiguous: {by} maps to {every} in the CMS {entry.quarter or ''} files; "
        "choose the code for the product and use given"
    )


def payment_text(
    entry: CatalogEntry, units: int | None, visit: VisitFacts, ctx: RuleContext
) -> str | None:
    """Medicare: the Part B limit (units × limit per unit); a facility: the OPPS status."""
    quarter = ctx.catalog.at(None).quarter
    for candidate in ctx.catalog.quarters:
        if candidate.label == entry.quarter:
            quarter = candidate
    if quarter is None:
        return None
    if is_facility(visit, ctx) and entry.status_indicator and "opps" in quarter.files:
        meaning = codes.OPPS_STATUS_MEANING.get(entry.status_indicator, "see Addendum B")
        return f"OPPS status {entry.status_indicator} ({meaning}; {quarter.files['opps'].name})"
    if visit.payer.payer_class != codes.PAYER_CLASS_MEDICARE or "pricing" not in quarter.files:
        return None
    if entry.payment_limit is None:
        return f"no Part B payment limit in {quarter.files['pricing'].name}"
    pricing = quarter.files["pricing"]
    month = pricing.start.strftime("%B %Y") if pricing.start else quarter.label
    if units is None:
        return (
            f"Part B limit ${entry.payment_limit} per unit (ASP + 6 %, {month} file {pricing.name})"
        )
    total = (entry.payment_limit * units).quantize(Decimal("0.01"))
    return (
        f"Part B limit ${total} = {units} × ${entry.payment_limit} (ASP + 6 %, {month} file "
        f"{pricing.name})"
    )
