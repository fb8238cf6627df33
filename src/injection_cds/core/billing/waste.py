"""JW/JZ: the discarded amount of a single-dose container (Pub 100-04 ch.17 §40). No I/O.

For a separately payable Part B drug from a single-dose container (vial, ampule, prefilled
syringe): JZ on the drug line when nothing was discarded; when some was, the administered
units on one line (no JW/JZ) and the discarded units on a second line with JW. The JW
units are ceil((dose + discarded) ÷ descriptor) − ceil(dose ÷ descriptor): when the billed
units, rounded up, already cover the discarded amount there is no JW line, and the line
takes JZ (Noridian "Modifier JZ": a 100 mg vial, 70 mg given, one unit: JZ). Multi-dose
containers take neither. Medicare requires them (JZ from 2023-07-01; claims without them
returned from 2023-10-01, CMS JW/JZ FAQ, MLN MM13056); other payers per their profile.

The discarded amount is read from the chart (docs/charting-billing.md): the
``discarded-amount`` extension on the administration, or a separate MedicationAdministration
that records the waste (category, dosage.method or note saying waste) linked by ``partOf``
or the same order, or the same drug on the same day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal

from injection_cds.core import codes
from injection_cds.core.billing.classify import entry_for, first_ndc11, profile_of
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, Drug, Quantity, Strength, VisitFacts
from injection_cds.core.units import billing_units, convert, dose_unit, ndc_quantity
from injection_cds.reference.catalog import CatalogEntry
from injection_cds.reference.containers import Container, container_kind


@dataclass(frozen=True)
class PendingDiscard:
    """A single-dose container only partly given with no discarded amount charted (DOC018)."""

    administration: Administration
    remainder: Decimal  # what was left in the container(s), in ``unit``
    unit: str


def wants_discard_modifiers(visit: VisitFacts, ctx: RuleContext) -> bool:
    """The payer wants JW/JZ: its profile says so, else Medicare only."""
    setting = profile_of(visit, ctx).discarded_drug_modifiers
    if setting is not None:
        return setting
    return visit.payer.payer_class == codes.PAYER_CLASS_MEDICARE


def in_unit(amount: Quantity, unit: str, strength: Strength | None) -> Decimal | None:
    """An amount (a dose or a discarded amount) in ``unit``, through the strength for volumes."""
    if amount.value is None:
        return None
    direct = convert(amount.value, dose_unit(amount), unit)
    if direct is not None:
        return direct
    if strength is None or strength.numerator.value is None or strength.denominator is None:
        return None
    millilitres = convert(amount.value, dose_unit(amount), "mL")
    per = convert(strength.denominator.value or Decimal(1), dose_unit(strength.denominator), "mL")
    numerator = convert(strength.numerator.value, dose_unit(strength.numerator), unit)
    if millilitres is None or per is None or numerator is None or per == 0:
        return None
    return millilitres * numerator / per


def discarded_amount(administration: Administration, visit: VisitFacts) -> Quantity | None:
    """The discarded amount charted for an administration (extension, else waste records)."""
    if administration.discarded is not None:
        return administration.discarded
    records = [a for a in visit.administrations if a.waste_record and _belongs(a, administration)]
    values = [r.dose for r in records if r.dose is not None and r.dose.value is not None]
    if not values:
        return None
    unit = dose_unit(values[0])
    total = sum((v.value or Decimal(0) for v in values if dose_unit(v) == unit), Decimal(0))
    return Quantity(total, values[0].unit, values[0].code, values[0].system)


def _belongs(record: Administration, administration: Administration) -> bool:
    if administration.reference in record.part_of:
        return True
    if record.request and record.request == administration.request:
        return True
    if record.part_of or record.request:
        return False
    same_drug = (
        record.drug is not None
        and administration.drug is not None
        and record.drug.name.lower() == administration.drug.name.lower()
    )
    same_day = (
        record.effective is not None
        and administration.effective is not None
        and record.effective.date == administration.effective.date
    )
    return same_drug and same_day


def container_of(administration: Administration, ctx: RuleContext) -> Container | None:
    """The package's container: the loaded FDA file or the shipped table, else its label."""
    drug = administration.drug
    known = ctx.containers.container(first_ndc11(drug))
    if known is not None or drug is None:
        return known
    return labelled_container(drug, entry_for(drug, ctx.catalog))


def labelled_container(drug: Drug, entry: CatalogEntry | None) -> Container | None:
    """The container the charted product's own words name, when no table knows the NDC.

    EHRs chart the package as its label names it ("Prolia 60 mg/mL prefilled syringe",
    "ketorolac 60 mg/2 mL single-dose vial"): the words the FDA package file uses decide it
    (single-dose, single-use, ampule, prefilled syringe; multi-dose; a pen or cartridge and a
    bare "vial" say nothing). One container holds the crosswalk's billing units per item
    times the descriptor amount (Prolia 55513-0710-01: 60 x 1 mg), which tells a whole
    container from a partial one. Sources: Pub 100-04 ch.17 §40; CMS JW/JZ FAQs; FDA NDC
    package file definitions (docs/SOURCES.md §10).
    """
    kind = container_kind(drug.searchable_text())
    if kind is None:
        return None
    package = entry.package if entry is not None else None
    per_item = package.units_per_item if package is not None else None
    if per_item is None or entry is None or entry.amount is None or entry.up_to:
        return Container(kind, source="the charted product's label")
    return Container(kind, per_item * entry.amount, entry.unit, "the charted product's label")


def with_discard(
    line: ChargeLine,
    administration: Administration,
    visit: VisitFacts,
    ctx: RuleContext,
    *,
    separately_payable: bool = True,
) -> tuple[list[ChargeLine], PendingDiscard | None]:
    """The drug line with JZ, or split into administered + JW lines; or as is."""
    if not separately_payable or not wants_discard_modifiers(visit, ctx) or line.units is None:
        return [line], None
    container = container_of(administration, ctx)
    entry = entry_for(administration.drug, ctx.catalog)
    dose = administration.dose
    if container is None or container.kind != codes.CONTAINER_SINGLE_DOSE:
        return [line], None
    if entry is None or entry.amount is None or entry.unit is None or dose is None:
        return [line], None
    strength = administration.drug.strength if administration.drug else None
    given = in_unit(dose, entry.unit, strength)
    if given is None:
        return [line], None
    discarded = discarded_amount(administration, visit)
    if discarded is None:
        remainder = _remainder(given, container, entry, strength)
        if remainder is None:
            note = "JZ: single-dose container, no discarded amount charted"
            return [_modified(line, codes.MODIFIER_NOTHING_DISCARDED, note)], None
        if remainder > 0:
            note = "JW or JZ: chart the amount discarded from the single-dose container (DOC018)"
            return [replace(line, note=_join(line.note, note))], PendingDiscard(
                administration, remainder, entry.unit
            )
        return [_modified(line, codes.MODIFIER_NOTHING_DISCARDED, None)], None
    wasted = in_unit(discarded, entry.unit, strength)
    if wasted is None or wasted <= 0:
        return [_modified(line, codes.MODIFIER_NOTHING_DISCARDED, None)], None
    total = billing_units(Quantity(given + wasted, entry.unit, entry.unit), entry).units
    jw_units = (total or 0) - line.units
    if jw_units <= 0:
        note = "JZ: the discarded amount is inside the billed unit, no JW line (Noridian)"
        return [_modified(line, codes.MODIFIER_NOTHING_DISCARDED, note)], None
    profile = profile_of(visit, ctx)
    ndc = ndc_quantity(discarded, strength, profile) if line.ndc else None
    jw_line = replace(
        line,
        units=jw_units,
        modifiers=(*line.modifiers, codes.MODIFIER_DISCARDED),
        ndc_unit=ndc[0] if ndc else None,
        ndc_quantity=ndc[1] if ndc else None,
        ndc_note=ndc[2] if ndc else None,
        description=f"{line.description} (discarded)",
        note=f"discarded {json_amount(wasted)} {entry.unit} from a single-dose container",
    )
    return [line, jw_line], None


def _remainder(
    given: Decimal, container: Container, entry: CatalogEntry, strength: Strength | None
) -> Decimal | None:
    """What is left in the containers opened for this dose (None: content unknown)."""
    if container.content_amount is None or container.content_unit is None or entry.unit is None:
        return None
    content = in_unit(
        Quantity(container.content_amount, container.content_unit, container.content_unit),
        entry.unit,
        strength,
    )
    if content is None or content <= 0:
        return None
    opened = max(1, math.ceil(given / content))
    return opened * content - given


def _modified(line: ChargeLine, modifier: str, note: str | None) -> ChargeLine:
    return replace(line, modifiers=(*line.modifiers, modifier), note=_join(line.note, note))


def _join(first: str | None, second: str | None) -> str | None:
    return "; ".join(part for part in (first, second) if part) or None


def json_amount(value: Decimal) -> str:
    """An amount as a person reads it (no exponent, no trailing zeros)."""
    return f"{value.normalize():f}"
