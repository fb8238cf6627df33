"""Readers for the three CMS drug files, in any quarter's layout. File I/O only when asked.

* **ASP NDC-HCPCS crosswalk** (``<Month> <year> ASP NDC - HCPCS Crosswalk``): free-text
  preamble, then a header whose code column is named after the year (``_2026_CODE``,
  ``_2025_CODE``; older files ``HCPCS Code``), ``NDC2`` (11 digits, 5-4-2), ``Drug Name``,
  ``HCPCS dosage``, ``PKG SIZE``, ``PKG QTY``, ``BILLUNITS``, ``BILLUNITSPKG``; dozens of empty
  trailing columns.
* **ASP payment allowance limits** (``Payment Allowance Limits for Medicare Part B Drugs``):
  preamble with ``Effective <date> through <date>``, header ``HCPCS Code``, ``Short
  Description``, ``HCPCS Code Dosage``, ``Payment Limit`` (per billing unit, ASP + 6 %).
* **OPPS Addendum B**: preamble (Windows-1252 bytes), header ``HCPCS Code``, ``Short
  Descriptor``, ``SI``, ``APC``, ``Payment Rate``.

Each reader finds its header by the column names, not by the line number, so a quarter
whose preamble grew a line still loads. Bytes are decoded as Windows-1252 (a superset of
the Latin-1 the files use); a UTF-8 BOM is dropped.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Generic, TypeVar

RowT = TypeVar("RowT")

_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
_EFFECTIVE = re.compile(
    r"effective\s+(\w+)\s+(\d{1,2}),\s*(\d{4})\s+(?:through|to|-)\s+(\w+)\s+(\d{1,2}),\s*(\d{4})",
    re.IGNORECASE,
)
_MONTH_YEAR = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{4})\b", re.IGNORECASE)
_FILE_QUARTER = re.compile(r"(\d{4})[\s_-]*q([1-4])", re.IGNORECASE)
_CODE_HEADER = re.compile(r"^(hcpcs( code)?|_?\d{4}_code)$", re.IGNORECASE)


class CmsFileError(ValueError):
    """A CMS file does not have any layout this reader knows."""


@dataclass(frozen=True)
class CrosswalkRow:
    """One NDC of the crosswalk (values as published, trimmed)."""

    code: str
    description: str
    labeler: str
    ndc: str
    drug_name: str
    dosage: str
    package_size: str
    package_quantity: str
    units_per_item: str
    units_per_package: str


@dataclass(frozen=True)
class PricingRow:
    """One code of the payment limit file."""

    code: str
    description: str
    dosage: str
    payment_limit: str


@dataclass(frozen=True)
class OppsRow:
    """One code of Addendum B: its OPPS status indicator and APC."""

    code: str
    description: str
    status_indicator: str
    apc: str


@dataclass(frozen=True)
class CmsFile(Generic[RowT]):
    """A read file: its name, title, effective period (when it says) and rows."""

    name: str
    title: str
    start: date | None
    end: date | None
    rows: tuple[RowT, ...]


def decode(raw: bytes) -> str:
    """CMS bytes as text: UTF-8 when they are, else Windows-1252 (Latin-1 for what it lacks)."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def _rows(text: str) -> Iterator[list[str]]:
    for row in csv.reader(io.StringIO(text)):
        yield [" ".join(cell.replace("\xa0", " ").split()) for cell in row]


def _preamble_and_header(
    rows: Iterator[list[str]], needed: tuple[str, ...]
) -> tuple[list[str], dict[str, int]]:
    preamble: list[str] = []
    for row in rows:
        lowered = [cell.lower() for cell in row]
        has_code = any(_CODE_HEADER.match(cell) for cell in lowered)
        if has_code and all(name in lowered for name in needed):
            header = {cell: at for at, cell in reversed(list(enumerate(lowered))) if cell}
            code_at = next(at for at, cell in enumerate(lowered) if _CODE_HEADER.match(cell))
            header["code"] = code_at
            return preamble, header
        preamble.append(" ".join(cell for cell in row if cell))
    raise CmsFileError(f"no header row naming a HCPCS code column and {', '.join(needed)}")


def _effective(preamble: list[str], name: str) -> tuple[date | None, date | None]:
    text = " ".join(preamble)
    found = _EFFECTIVE.search(text)
    if found:
        m1, d1, y1, m2, d2, y2 = found.groups()
        if m1.lower() in _MONTHS and m2.lower() in _MONTHS:
            return (
                date(int(y1), _MONTHS[m1.lower()], int(d1)),
                date(int(y2), _MONTHS[m2.lower()], int(d2)),
            )
    return _quarter_of(text, name)


def _quarter_of(text: str, name: str) -> tuple[date | None, date | None]:
    """The quarter a file covers from its title (``October 2025``) or its name (``2025q4``)."""
    month_year = _MONTH_YEAR.search(text)
    if month_year:
        month = _MONTHS[month_year.group(1).lower()]
        return quarter_bounds(int(month_year.group(2)), (month - 1) // 3 + 1)
    in_name = _FILE_QUARTER.search(name)
    if in_name:
        return quarter_bounds(int(in_name.group(1)), int(in_name.group(2)))
    return None, None


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a calendar quarter."""
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def _cell(row: list[str], header: dict[str, int], name: str) -> str:
    at = header.get(name)
    return row[at] if at is not None and at < len(row) else ""


Cells = Callable[[str], str]
"""A data row's cell by its lower-cased column name ("" when the row has no such cell)."""


def _read(
    text: str, name: str, needed: tuple[str, ...], make: Callable[[str, Cells], RowT | None]
) -> CmsFile[RowT]:
    """A CMS file: its header found by ``needed``, then every row with a code, made by ``make``."""
    rows = _rows(text)
    preamble, header = _preamble_and_header(rows, needed)
    found = []
    for row in rows:
        code = _cell(row, header, "code").upper()
        if code:
            made = make(code, functools.partial(_cell, row, header))
            if made is not None:
                found.append(made)
    start, end = _effective(preamble, name)
    return CmsFile(name, _title(preamble), start, end, tuple(found))


def read_crosswalk(text: str, name: str) -> CmsFile[CrosswalkRow]:
    """The ASP NDC-HCPCS crosswalk (any year's code column)."""
    return _read(text, name, ("ndc2",), _crosswalk_row)


def _crosswalk_row(code: str, cell: Cells) -> CrosswalkRow | None:
    if not cell("ndc2"):
        return None
    return CrosswalkRow(
        code=code,
        description=cell("short description"),
        labeler=cell("labeler name"),
        ndc=cell("ndc2"),
        drug_name=cell("drug name"),
        dosage=cell("hcpcs dosage"),
        package_size=cell("pkg size"),
        package_quantity=cell("pkg qty"),
        units_per_item=cell("billunits"),
        units_per_package=cell("billunitspkg"),
    )


def read_pricing(text: str, name: str) -> CmsFile[PricingRow]:
    """The Part B payment allowance limit file."""
    return _read(text, name, ("payment limit",), _pricing_row)


def _pricing_row(code: str, cell: Cells) -> PricingRow:
    return PricingRow(
        code=code,
        description=cell("short description"),
        dosage=cell("hcpcs code dosage"),
        payment_limit=cell("payment limit"),
    )


def read_addendum_b(text: str, name: str) -> CmsFile[OppsRow]:
    """OPPS Addendum B (status indicator and APC per code)."""
    return _read(text, name, ("si",), _opps_row)


def _opps_row(code: str, cell: Cells) -> OppsRow:
    return OppsRow(
        code=code,
        description=cell("short descriptor"),
        status_indicator=cell("si").upper(),
        apc=cell("apc"),
    )


def _title(preamble: list[str]) -> str:
    return next((line for line in preamble if line), "")[:200]


def sniff(path: Path) -> str | None:
    """Which CMS file this is: "crosswalk", "pricing", "opps", or None."""
    head = decode(path.read_bytes()[:200000]).lower()
    if "ndc2" in head and "billunits" in head:
        return "crosswalk"
    if "payment limit" in head and "hcpcs code dosage" in head:
        return "pricing"
    if "addendum b" in head or (",si," in head and "apc" in head):
        return "opps"
    return None
