"""The HCPCS dosage descriptor of the CMS files, parsed: amount, unit and kind. Pure.

The ASP files give each code's descriptor as CMS writes it (``250 MG``, ``UP TO 150 MG``,
``1000 CC``, ``1 EA``, ``100,000 UNITS``, ``Per Therapeutic Dose``, ``2.5 MG/0.5 MG``). A
billing unit is one descriptor amount:

* **per** X: units = dose ÷ X, rounded up;
* **up to** X: one unit for any dose up to X (``UP TO 80 MG``);
* **each**: one unit per item or dose given (``1 EA``, ``PER VIAL``, ``Per Dose``, CAR-T
  "up to N million cells", therapy-length codes).

Units are normalised to the UCUM-ish spelling ``core/units.py`` converts: ``mg``, ``mcg``,
``g``, ``mL`` (``CC`` is a millilitre), ``[iU]`` (``IU``, ``UNITS``, ``MU`` = a million units),
``[USP'U]``, ``meq``; a combination product is per its first component (``2.5 MG/0.5 MG``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

PER, UP_TO, EACH = "per", "up_to", "each"
EACH_UNIT = "{each}"

_AMOUNT_UNIT = re.compile(
    r"^\s*(?P<up>up\s+to\s+)?(?P<amount>\d[\d,]*(?:\.\d+)?|\.\d+)\s*(?P<unit>[a-z.'\s]*)",
    re.IGNORECASE,
)
# CMS spelling -> (unit, factor): "100,000 UNITS" stays [iU]; "1 MU" is 1,000,000 [iU].
_UNITS: dict[str, tuple[str, Decimal]] = {
    "mg": ("mg", Decimal(1)),
    "mcg": ("mcg", Decimal(1)),
    "g": ("g", Decimal(1)),
    "gm": ("g", Decimal(1)),
    "gram": ("g", Decimal(1)),
    "ml": ("mL", Decimal(1)),
    "cc": ("mL", Decimal(1)),
    "iu": ("[iU]", Decimal(1)),
    "i.u.": ("[iU]", Decimal(1)),
    "unit": ("[iU]", Decimal(1)),
    "units": ("[iU]", Decimal(1)),
    "u": ("[iU]", Decimal(1)),
    "mu": ("[iU]", Decimal(1000000)),
    "million units": ("[iU]", Decimal(1000000)),
    "usp unit": ("[USP'U]", Decimal(1)),
    "usp units": ("[USP'U]", Decimal(1)),
    "meq": ("meq", Decimal(1)),
    "sq cm": ("cm2", Decimal(1)),
    "million pfu": ("10*6.[PFU]", Decimal(1)),
    "factor viii iu": ("[iU]", Decimal(1)),
    "ea": (EACH_UNIT, Decimal(1)),
    "each": (EACH_UNIT, Decimal(1)),
    "vial": (EACH_UNIT, Decimal(1)),
    "dose": (EACH_UNIT, Decimal(1)),
    "implant": (EACH_UNIT, Decimal(1)),
    "microcurie": ("uCi", Decimal(1)),
}


@dataclass(frozen=True, slots=True)
class Dosage:
    """One billing unit of a code: ``kind`` per / up to / each, ``amount`` ``unit``."""

    amount: Decimal
    unit: str
    kind: str


_EACH_DOSAGE = Dosage(Decimal(1), EACH_UNIT, EACH)


def parse_dosage(text: str) -> Dosage | None:
    """``"UP TO 150 MG"`` -> Dosage(150, "mg", "up_to"); None when it says no amount at all."""
    cleaned = " ".join(text.replace("\xa0", " ").split())
    if not cleaned:
        return None
    lowered = cleaned.lower()
    if lowered.startswith("per "):
        rest = parse_dosage(cleaned[4:]) or parse_dosage("1 " + cleaned[4:])
        if rest is not None and rest.unit != EACH_UNIT and "applicator" not in lowered:
            return rest
        return _EACH_DOSAGE  # Per Dose, PER VIAL, Per Therapeutic Dose, Per infusion ...
    if lowered.startswith(("less than", "greater than")):
        return _EACH_DOSAGE  # therapy-length and dose-band codes: one per administration
    match = _AMOUNT_UNIT.match(cleaned)
    if match is None:
        return None
    try:
        amount = Decimal(match.group("amount").replace(",", ""))
    except InvalidOperation:
        return None
    words = match.group("unit").lower().split()
    kind = UP_TO if match.group("up") else PER
    if words[:1] == ["million"] and "cells" in lowered:
        return _EACH_DOSAGE  # CAR-T: "up to N million ... cells" is one therapeutic dose
    known = None
    for length in range(len(words), 0, -1):  # the longest run of words that names a unit
        known = _UNITS.get(" ".join(words[:length]))
        if known is not None:
            break
    if known is None:
        return None
    unit, factor = known
    if unit == EACH_UNIT:
        return Dosage(amount, unit, EACH)
    return Dosage(amount * factor, unit, kind)
