"""Dose units: UCUM conversion, HCPCS billing units and the NDC unit and quantity. No I/O.

RULES.md BIL001 and SOURCES-96372.md §3.4, §5:

* **HCPCS units** = ceil(dose ÷ descriptor amount), at least 1, after converting the dose to
  the descriptor's unit (UCUM: mg, g, mcg/ug, mL, [iU], [USP'U], unit/U). Mass converts to
  mass, volume to volume; the unit kinds ([iU], [USP'U], U) are treated as one kind, because
  the HCPCS descriptors of the shipped drugs count USP units as international units (J0725
  "per 1,000 USP units"; J1815 "per 5 units"). A dose that cannot be converted gets no units,
  and says why.
* **"Up to X" codes**: one unit for any dose ≤ X; above X, ceil(dose ÷ X) with a note to check
  for a code at the strength given (BCBS AL).
* **NDC quantity**: the package's unit as coders report it — ML for liquids, UN for vials —
  computed from the dose and the product's strength; without a strength, mass falls back to
  ME (or GR where the payer profile says) and units to F2, valid NUCC qualifiers, with a note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from injection_cds.core import codes
from injection_cds.core.context import PayerProfile
from injection_cds.core.facts import Quantity, Strength
from injection_cds.reference.catalog import CatalogEntry

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
    return None


def dose_unit(dose: Quantity) -> str | None:
    """The dose's unit: the UCUM code when there is one, else the charted unit text."""
    return dose.code or dose.unit


def convert(value: Decimal, from_unit: str | None, to_unit: str | None) -> Decimal | None:
    """``value`` in ``from_unit`` expressed in ``to_unit``; None when they do not convert."""
    source, target = unit_kind(from_unit), unit_kind(to_unit)
    if source is None or target is None or source[0] != target[0]:
        return None
    return value * source[1] / target[1]


@dataclass(frozen=True)
class Units:
    """HCPCS billing units for one dose, or why they could not be computed."""

    units: int | None
    note: str | None = None


def billing_units(dose: Quantity | None, entry: CatalogEntry) -> Units:
    """ceil(dose ÷ descriptor amount), at least 1; "up to X" codes: 1 unit for dose ≤ X."""
    if entry.amount is None or entry.unit is None:
        return Units(None, f"no descriptor amount known for {entry.hcpcs}")
    if dose is None or dose.value is None:
        return Units(None, "no dose charted")
    amount = convert(dose.value, dose_unit(dose), entry.unit)
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
    "NDC quantity given in mg (ME): most payers expect UN (vials) for powders and ML for "
    "liquids; chart the product strength (Medication.ingredient.strength) to compute it"
)


def ndc_quantity(
    dose: Quantity | None, strength: Strength | None, profile: PayerProfile
) -> tuple[str, Decimal, str | None] | None:
    """The NDC unit qualifier, quantity and any caveat for the dose given.

    Coders report the package's unit: ML for liquids, UN for vials of powder. So: a dose
    charted in mL is that many mL; a dose in mass or units with the product's strength is
    converted — per mL (30 mg/mL) gives ML, per unit of presentation (1 g per vial) gives
    UN, rounded up to whole vials. Without a strength, mass falls back to ME (or GR where the
    payer profile says) and units to F2, both valid NUCC qualifiers, with a caveat.
    """
    if dose is None or dose.value is None:
        return None
    kind = unit_kind(dose_unit(dose))
    if kind is None:
        return None
    dimension, factor = kind
    if dimension == VOLUME:
        return codes.NDC_UNIT_ML, dose.value * factor, None
    from_strength = _ndc_from_strength(dose, strength)
    if from_strength is not None:
        return from_strength
    if dimension == UNITS:
        return codes.NDC_UNIT_IU, dose.value, None
    if profile.ndc_mass_unit == codes.NDC_UNIT_GRAM:
        return codes.NDC_UNIT_GRAM, dose.value * factor / 1000, None
    return codes.NDC_UNIT_MG, dose.value * factor, NDC_MG_NOTE


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
