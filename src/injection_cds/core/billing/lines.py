"""A claim line (RULES.md ``org.injectioncds.lines`` entry) and its JSON form."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from injection_cds.core import codes


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
    payment: str | None = None  # Part B payment limit or OPPS status, naming its file
    reference: str | None = None  # the CMS quarter (and file) the drug's code came from
    claim: str = codes.CLAIM_PROFESSIONAL  # codes.CLAIM_KINDS: CMS-1500/837P or UB-04/837I
    drug: bool = False  # a drug's own line (drug_lines.drug_line): JW/JZ and ESA rules apply

    def as_json(self) -> dict[str, Any]:
        """The RULES.md line shape; absent values are left out (no null, no empty list)."""
        line: dict[str, Any] = {"code": self.code, "system": self.system}
        if self.units is not None:
            line["units"] = self.units
        if self.modifiers:
            line["modifiers"] = list(self.modifiers)
        line["claim"] = self.claim
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


def units_by_code(lines: Iterable[ChargeLine]) -> dict[str, int]:
    """Units summed per code (MUEs are per date of service across lines)."""
    totals: dict[str, int] = {}
    for line in lines:
        if line.units is not None:
            totals[line.code] = totals.get(line.code, 0) + line.units
    return totals


def lines_json(lines: Iterable[ChargeLine]) -> list[Mapping[str, Any]]:
    """The RULES.md ``org.injectioncds.lines`` entries."""
    return [line.as_json() for line in lines]
