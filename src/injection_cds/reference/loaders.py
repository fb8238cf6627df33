"""Loaders for the CMS files users download each quarter. File I/O only when called with a path.

Nothing here ships a value: every MUE, crosswalk row and rate comes from a file the user
names in the configuration (``[billing]`` section; see ``billing_config.py``). Layouts (also
in ``docs/reference-data.md``):

**ASP NDC-HCPCS crosswalk** (CMS "ASP NDC-HCPCS Crosswalk", CSV export of the quarterly
file). Free-text lines may precede the header; the header row is the first row with a cell
naming the HCPCS code (``HCPCS Code``, ``HCPCS``, or ``_2025_CODE``-style) and a cell
``NDC2`` (the 11-digit 5-4-2 NDC) or ``NDC``. Optional ``HCPCS Dosage`` (e.g. ``250 MG``,
``1000 MCG``, ``5 UNITS``) gives the descriptor amount and unit, and ``Short Description``
the code's text. Other columns (labeler, package size, bill units) are ignored.

**MUE tables** (CMS ``MCR_MUE_PractitionerServices_Eff_<date>`` and
``MCR_MUE_OutpatientHospitalServices_Eff_<date>``, CSV). Preamble lines, then a header row
whose first cell starts with ``HCPCS/CPT Code``; columns: code, MUE value, MUE Adjudication
Indicator (``1 Line Edit``, ``2 Date of Service Edit: Policy``, ``3 Date of Service Edit:
Clinical``), MUE Rationale. The digit leading the indicator is kept as the MAI.

**Fee schedule** (this service's own CSV layout, so any schedule — the MPFS locality file
exported, a payer contract — can be loaded): header ``code,modifier,non_facility_rate,
facility_rate`` (modifier and facility_rate may be empty; rates in dollars). The schedule's
name and year come from the configuration and are shown with the estimate.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from injection_cds.core.ndc import normalise_ndc
from injection_cds.reference.catalog import CatalogEntry, FeeSchedule, MueEntry, MueTable


class ReferenceFileError(ValueError):
    """A configured reference file does not have the documented layout."""


def _rows(text: str) -> Iterator[list[str]]:
    for row in csv.reader(text.splitlines()):
        yield [cell.strip() for cell in row]


# --- ASP crosswalk ---------------------------------------------------------------------------
_CODE_HEADER = re.compile(r"^(hcpcs( code)?|_?\d{4}_code)$", re.IGNORECASE)
_DOSAGE = re.compile(r"^\s*([\d.,]+)\s*([a-z'\[\]]+)", re.IGNORECASE)
_DOSAGE_UNITS = {
    "MG": "mg",
    "G": "g",
    "GM": "g",
    "MCG": "mcg",
    "ML": "mL",
    "UNITS": "[iU]",
    "UNIT": "[iU]",
    "IU": "[iU]",
    "U": "[iU]",
}


@dataclass(frozen=True)
class AspCrosswalk:
    """NDC (11 digits) -> HCPCS, and the descriptor of each HCPCS code found."""

    ndc_to_hcpcs: dict[str, str] = field(default_factory=dict)
    descriptors: dict[str, CatalogEntry] = field(default_factory=dict)


def parse_dosage(text: str) -> tuple[Decimal, str] | None:
    """``"250 MG"`` -> (250, "mg"); None when the dosage is not a plain amount and unit."""
    match = _DOSAGE.match(text)
    if not match:
        return None
    unit = _DOSAGE_UNITS.get(match.group(2).upper())
    try:
        amount = Decimal(match.group(1).replace(",", ""))
    except InvalidOperation:
        return None
    return (amount, unit) if unit else None


def read_asp_crosswalk(text: str) -> AspCrosswalk:
    """Parse the ASP NDC-HCPCS crosswalk CSV (layout in the module docstring)."""
    rows = _rows(text)
    header: list[str] | None = None
    for row in rows:
        lowered = [c.lower() for c in row]
        if any(_CODE_HEADER.match(c) for c in row) and ("ndc2" in lowered or "ndc" in lowered):
            header = lowered
            break
    if header is None:
        raise ReferenceFileError("ASP crosswalk: no header row with a HCPCS code and NDC column")
    code_at = next(i for i, c in enumerate(header) if _CODE_HEADER.match(c))
    ndc_at = header.index("ndc2") if "ndc2" in header else header.index("ndc")
    dosage_at = header.index("hcpcs dosage") if "hcpcs dosage" in header else None
    description_at = header.index("short description") if "short description" in header else None
    crosswalk = AspCrosswalk()
    for row in rows:
        if len(row) <= max(code_at, ndc_at) or not row[code_at]:
            continue
        ndc11 = normalise_ndc(row[ndc_at])
        if ndc11 is None:
            continue
        code = row[code_at].upper()
        crosswalk.ndc_to_hcpcs[ndc11] = code
        if code not in crosswalk.descriptors:
            dosage = parse_dosage(_cell(row, dosage_at))
            name = _cell(row, description_at) or code
            crosswalk.descriptors[code] = CatalogEntry(
                name=name.lower() or code,
                hcpcs=code,
                amount=dosage[0] if dosage else None,
                unit=dosage[1] if dosage else None,
                antineoplastic=code.startswith("J9"),
                source="CMS ASP NDC-HCPCS crosswalk",
            )
    return crosswalk


def _cell(row: list[str], at: int | None) -> str:
    return row[at] if at is not None and len(row) > at else ""


def load_asp_crosswalk(path: Path) -> AspCrosswalk:
    """Read the crosswalk file at ``path``."""
    return read_asp_crosswalk(path.read_text("utf-8-sig", errors="replace"))


# --- MUE -------------------------------------------------------------------------------------
def read_mue_table(text: str, kind: str, source: str) -> MueTable:
    """Parse a CMS MUE table CSV (layout in the module docstring)."""
    rows = _rows(text)
    for row in rows:
        if row and row[0].lower().startswith("hcpcs/cpt code"):
            break
    else:
        raise ReferenceFileError(f"MUE table {source}: no 'HCPCS/CPT Code' header row")
    table = MueTable(kind=kind, source=source)
    for row in rows:
        if len(row) < 2 or not row[0]:
            continue
        try:
            limit = int(row[1])
        except ValueError:
            continue
        mai = row[2][:1] if len(row) > 2 and row[2][:1].isdigit() else None
        rationale = row[3] if len(row) > 3 and row[3] else None
        table.entries[row[0].upper()] = MueEntry(row[0].upper(), limit, mai, rationale)
    return table


def load_mue_table(path: Path, kind: str) -> MueTable:
    """Read an MUE table file; its file name is shown as the source on the card."""
    return read_mue_table(path.read_text("utf-8-sig", errors="replace"), kind, path.name)


# --- fee schedule ----------------------------------------------------------------------------
def _money(value: str) -> Decimal | None:
    cleaned = value.replace("$", "").replace(",", "").strip()
    if not cleaned:
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:
        raise ReferenceFileError(f"fee schedule: {value!r} is not an amount") from exc


def read_fee_schedule(text: str, name: str, year: int | None, source: str) -> FeeSchedule:
    """Parse a fee schedule CSV (``code,modifier,non_facility_rate,facility_rate``)."""
    reader = csv.DictReader(text.splitlines())
    needed = {"code", "non_facility_rate"}
    if reader.fieldnames is None or not needed <= {f.strip() for f in reader.fieldnames}:
        raise ReferenceFileError(f"fee schedule {source}: header must include {sorted(needed)}")
    schedule = FeeSchedule(name=name, year=year, source=source)
    for row in reader:
        code = (row.get("code") or "").strip().upper()
        if not code:
            continue
        modifier = (row.get("modifier") or "").strip().upper()
        schedule.rates[(code, modifier)] = (
            _money(row.get("non_facility_rate") or ""),
            _money(row.get("facility_rate") or ""),
        )
    return schedule


def load_fee_schedule(path: Path, name: str, year: int | None) -> FeeSchedule:
    """Read a fee schedule file."""
    return read_fee_schedule(path.read_text("utf-8-sig"), name, year, path.name)
