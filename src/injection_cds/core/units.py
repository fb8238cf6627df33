"""Dose units: UCUM conversion, HCPCS billing units and the NDC unit and quantity. No I/O.

RULES.md BIL001 and SOURCES-96372.md §3.4, §5:

* **HCPCS units** = ceil(dose ÷ descriptor amount), at least 1, after converting the dose to
  the descriptor's unit (UCUM: mg, g, mcg/ug, mL (CC), [iU], [USP'U], unit/U, MU = a million
  units, meq). Mass converts to mass, volume to volume; the unit kinds ([iU], [USP'U], U) are
  treated as one kind, because the HCPCS descriptors count USP units as international units
  (J0725 "per 1,000 USP units"; J1815 "per 5 units"). A dose in mL for a code per mass (or
  the other way) converts with the product's strength (``Medication.ingredient.strength``)
  or the crosswalk package (billing units per item ÷ its volume). A dose that cannot be
  converted gets no units, and says why.
* **"Up to X" codes**: one unit for any dose ≤ X; above X, ceil(dose ÷ X) with a note to check
  for a code at the strength given (BCBS AL).
* **"Each" codes** (``1 EA``, ``Per Dose``): the number of items charted, else one.
* **NDC quantity** (837P N4): the package's unit as payers' NDC guides show it — ML for a
  liquid (the crosswalk gives the item's volume), UN for a vial, syringe, kit or device
  counted whole (package size 1: items used = units ÷ units per item) — else from the
  product's strength. When neither says, the quantity is left out and the line says so
  (no guessed ME); a payer profile may ask for ME or GR by mass (``ndc_mass_unit``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from injection_cds.core import codes
from injection_cds.core.context import PayerProfile
from injection_cds.core.facts import Quantity, Strength
from injection_cds.reference.catalog import CatalogEntry
from injection_cds.reference.drugref import Package

_MASS_IN_MG: dict[str, Decimal] = {
    "kg": Decimal(1000000),
    "g": Decimal(1000),
    "gm": Decimal(1000),
    "gram": Decimal(1000),
    "grams": Decimal(1000),
    "mg": Decimal(1),
    "milligram": Decimal(1),
    "milligrams": Decimal(1),
    "mcg": Decimal("0.001"),
    "ug": Decimal("0.001"),
    "µg": Decimal("0.001"),
    "microgram": Decimal("0.001"),
    "micrograms": Decimal("0.001"),
    "ng": Decimal("0.000001"),
}
_VOLUME_IN_ML: dict[str, Decimal] = {
    "l": Decimal(1000),
    "ml": Decimal(1),
    "milliliter": Decimal(1),
    "millilitre": Decimal(1),
    "cc": Decimal(1),
}
_UNIT_KIND: frozenset[str] = frozenset(
    {"[iu]", "iu", "[usp'u]", "usp'u", "usp units", "u", "[u]", "unit", "units", "[arb'u]"}
)
_MILLION_UNITS = frozenset({"mu", "10*6.[iu]", "10*6.[u]", "million units"})
# Units of a count of items: a dose of "2 vials" is two of the "each" code.
PRESENTATION_UNITS = frozenset(
    {
        "{each}",
        "each",
        "ea",
        "{ea}",
        "vial",
        "vials",
        "{vial}",
        "dose",
        "doses",
        "{dose}",
        "syringe",
        "syringes",
        "{syringe}",
        "kit",
        "{kit}",
        "implant",
        "{implant}",
        "1",
    }
)

MASS, VOLUME, UNITS = "mass", "volume", "units"


def unit_kind(unit: str | None) -> tuple[str, Decimal] | None:
    """The dimension of a UCUM (or common text) unit and its factor to mg, mL or units."""
    if not unit:
        return None
    key = unit.strip().lower()
    if key in _MASS_IN_MG:
        return MASS, _MASS_IN_MG[key]
    if key in _VOLUME_IN_ML:
        return VOLUME, _VOLUME_IN_ML[key]
    if key in _UNIT_KIND:
        return UNITS, Decimal(1)
    if key in _MILLION_UNITS:
        return UNITS, Decimal(1000000)
    return None


def dose_unit(dose: Quantity) -> str | None:
    """The dose's unit: the UCUM code when there is one, else the charted unit text."""
    return dose.code or dose.unit


def convert(value: Decimal, from_unit: str | None, to_unit: str | None) -> Decimal | None:
    """``value`` in ``from_unit`` expressed in ``to_unit``; None when they do not convert."""
    source, target = unit_kind(from_unit), unit_kind(to_unit)
    if source is None or target is None or source[0] != target[0]:
        if from_unit and to_unit and from_unit.strip().lower() == to_unit.strip().lower():
            return value  # the same unit this module does not know (meq, cm2, uCi)
        return None
    return value * source[1] / target[1]


def per_millilitre(
    unit: str, strength: Strength | None, package: Package | None, descriptor: Decimal | None
) -> Decimal | None:
    """How much drug (in ``unit``) one mL holds: from the strength, else the package."""
    if strength is not None and strength.numerator.value:
        denominator = strength.denominator
        volume = (
            convert(denominator.value or Decimal(1), dose_unit(denominator), "mL")
            if denominator is not None
            else None
        )
        amount = convert(strength.numerator.value, dose_unit(strength.numerator), unit)
        if volume and amount:
            return amount / volume
    if (
        package is not None
        and descriptor is not None
        and is_liquid(package)
        and package.units_per_item
        and package.size
    ):
        return package.units_per_item * descriptor / package.size
    return None


def is_liquid(package: Package) -> bool:
    """The crosswalk gives the item's volume (0.4 mL syringe, 50 mL bag) rather than 1 item."""
    return package.size is not None and package.size > 0 and package.size != 1


def dose_in(
    dose: Quantity,
    unit: str,
    strength: Strength | None,
    package: Package | None,
    descriptor: Decimal | None = None,
) -> Decimal | None:
    """The dose in ``unit``: converted directly, or across mL with the strength or package."""
    if dose.value is None:
        return None
    direct = convert(dose.value, dose_unit(dose), unit)
    if direct is not None:
        return direct
    kind, target = unit_kind(dose_unit(dose)), unit_kind(unit)
    if kind is not None and kind[0] == VOLUME and target is not None:
        concentration = per_millilitre(unit, strength, package, descriptor)
        return dose.value * kind[1] * concentration if concentration else None
    if target is not None and target[0] == VOLUME and kind is not None:
        concentration = per_millilitre(dose_unit(dose) or "", strength, package, None)
        return dose.value / concentration * target[1] if concentration else None
    return None


@dataclass(frozen=True)
class Units:
    """HCPCS billing units for one dose, or why they could not be computed."""

    units: int | None
    note: str | None = None


def billing_units(
    dose: Quantity | None, entry: CatalogEntry, strength: Strength | None = None
) -> Units:
    """ceil(dose ÷ descriptor amount), at least 1; "up to X" codes: 1 unit for dose ≤ X.

    "Each" codes: the number of items charted, else 1.
    """
    if entry.each:
        unit = (dose_unit(dose) or "").strip().lower() if dose is not None else ""
        if dose is not None and dose.value and unit in PRESENTATION_UNITS:
            return Units(max(1, math.ceil(dose.value)))
        return Units(1)
    if entry.amount is None or entry.unit is None:
        return Units(None, f"no descriptor amount known for {entry.hcpcs}")
    if dose is None or dose.value is None:
        return Units(None, "no dose charted")
    amount = dose_in(dose, entry.unit, strength, entry.package, entry.amount)
    if amount is None:
        return Units(
            None,
            f"dose in {dose_unit(dose) or 'no unit'} does not convert to the descriptor's "
            f"{entry.unit}; chart the dose in {entry.unit}",
        )
    if amount <= 0:
        return Units(None, "dose is zero")
    units = max(1, math.ceil(amount / entry.amount))
    note = None
    if entry.up_to and amount > entry.amount:
        note = (
            f"dose above the descriptor's 'up to {entry.amount} {entry.unit}': {units} units; "
            "check whether a code for the strength given exists"
        )
    return Units(units, note)


_PRESENTATION_UNITS = frozenset(
    {
        "",
        "1",
        "vial",
        "vials",
        "each",
        "ea",
        "syringe",
        "syringes",
        "ampule",
        "ampoule",
        "pen",
        "cartridge",
        "kit",
        "dose",
        "{vial}",
        "{each}",
        "{syringe}",
        "{dose}",
    }
)
NDC_MG_NOTE = (
    "NDC quantity given in mg (ME), as the payer profile asks: most payers expect UN (vials) "
    "for powders and ML for liquids"
)
NDC_UNKNOWN_NOTE = (
    "NDC unit and quantity cannot be known: the ASP crosswalk has no package for this NDC "
    "under the line's code and no product strength is charted "
    "(Medication.ingredient.strength); give ML for a liquid or UN per vial"
)


def ndc_quantity(
    dose: Quantity | None,
    strength: Strength | None,
    profile: PayerProfile,
    package: Package | None = None,
    entry: CatalogEntry | None = None,
) -> tuple[str, Decimal, str | None] | None:
    """The NDC unit qualifier, quantity and any caveat for the dose given.

    Coders report the package's unit (AmeriHealth Caritas PA NDC examples): ML for a liquid,
    UN for a vial, syringe or kit counted whole. So: a dose charted in mL is that many mL; a
    crosswalk package with a volume gives ML (dose ÷ concentration), one counted whole gives
    UN (billing units ÷ units per item, rounded up); else the product's strength per mL (ML)
    or per presentation (UN). Otherwise the quantity is unknown and the caveat says so,
    unless the payer profile asks for a mass (ME/GR) or units are charted (F2).
    """
    if dose is None or dose.value is None:
        return None
    kind = unit_kind(dose_unit(dose))
    if kind is not None and kind[0] == VOLUME:
        return codes.NDC_UNIT_ML, dose.value * kind[1], None
    if package is not None and entry is not None:
        from_package = _ndc_from_package(dose, package, entry, strength)
        if from_package is not None:
            return from_package
    from_strength = _ndc_from_strength(dose, strength) if kind is not None else None
    if from_strength is not None:
        return from_strength
    if kind is None:
        return None
    dimension, factor = kind
    if dimension == UNITS:
        return codes.NDC_UNIT_IU, dose.value * factor, None
    if profile.ndc_mass_unit == codes.NDC_UNIT_GRAM:
        return codes.NDC_UNIT_GRAM, dose.value * factor / 1000, None
    if profile.ndc_mass_unit == codes.NDC_UNIT_MG:
        return codes.NDC_UNIT_MG, dose.value * factor, NDC_MG_NOTE
    return None


def _ndc_from_package(
    dose: Quantity, package: Package, entry: CatalogEntry, strength: Strength | None
) -> tuple[str, Decimal, str | None] | None:
    if entry.amount is None or entry.unit is None or not package.units_per_item:
        return None
    amount = dose_in(dose, entry.unit, strength, package, entry.amount)
    if amount is None:
        return None
    if is_liquid(package) and package.size is not None:
        per_ml = package.units_per_item * entry.amount / package.size
        return codes.NDC_UNIT_ML, amount / per_ml, None
    items = Decimal(math.ceil(amount / (package.units_per_item * entry.amount)))
    return codes.NDC_UNIT_EACH, max(Decimal(1), items), None


def _ndc_from_strength(
    dose: Quantity, strength: Strength | None
) -> tuple[str, Decimal, str | None] | None:
    if strength is None or dose.value is None:
        return None
    per = convert(
        strength.numerator.value or Decimal(0), dose_unit(strength.numerator), dose_unit(dose)
    )
    if per is None or per <= 0:
        return None
    denominator = strength.denominator
    denominator_value = (
        denominator.value if denominator is not None and denominator.value else Decimal(1)
    )
    denominator_unit = (dose_unit(denominator) or "") if denominator is not None else ""
    denominator_kind = unit_kind(denominator_unit) if denominator_unit else None
    if denominator_kind is not None and denominator_kind[0] == VOLUME:
        millilitres = dose.value / per * denominator_value * denominator_kind[1]
        return codes.NDC_UNIT_ML, millilitres, None
    if denominator_unit.lower() in _PRESENTATION_UNITS:
        presentations = Decimal(math.ceil(dose.value / per * denominator_value))
        return codes.NDC_UNIT_EACH, presentations, None
    return None
