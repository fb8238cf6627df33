"""Single-dose or multi-dose: the container of each NDC package (JW/JZ, Pub 100-04 ch.17 §40).

Two sources, the second overriding the first:

* the shipped table ``data/containers.csv`` — packages of the catalog's drugs whose label
  (FDA NDC Directory package description, DailyMed "How supplied") says the container, with
  the content of one container in the drug's dose unit; columns ``ndc11, container,
  content_amount, content_unit, drug, source``;
* the FDA NDC Directory package file users download (``package.txt`` from ``ndctext.zip``,
  tab-separated; or the same columns saved as CSV from ``ndcxls.zip``): ``PRODUCTID,
  PRODUCTNDC, NDCPACKAGECODE, PACKAGEDESCRIPTION, STARTMARKETINGDATE, ENDMARKETINGDATE,
  NDC_EXCLUDE_FLAG, SAMPLE_PACKAGE``. ``PACKAGEDESCRIPTION`` nests the package levels,
  outermost first, joined by ``>`` (the text file) or ``/`` (openFDA, spreadsheets):
  ``1 VIAL, SINGLE-DOSE in 1 CARTON (0409-7332-01) > 10 mL in 1 VIAL, SINGLE-DOSE``. The
  container is read from the words: SINGLE-DOSE / SINGLE-USE, an AMPULE or a prefilled
  SYRINGE are single-dose (USP <659>; CMS JW/JZ FAQ); MULTI-DOSE is multi-dose; a bare
  VIAL says nothing. The innermost level's amount (``10 mL``) is the content of one
  container, in its own unit (a volume here; the drug's strength turns it into a dose).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path

from injection_cds.core import codes
from injection_cds.core.ndc import normalise_ndc

_SHIPPED = "containers.csv"
_LEVEL_SPLIT = re.compile(r"\s+[>/]\s+")
_LEVEL = re.compile(r"^\s*([\d.,]+)\s+(.+?)\s+in\s+\d+\s+(.+?)\s*(?:\([\d-]+\))?\s*$", re.I)
_SINGLE_WORDS = ("SINGLE-DOSE", "SINGLE DOSE", "SINGLE-USE", "SINGLE USE", "AMPULE", "SYRINGE")
# Pen injectors and cartridges hold several doses even when the file calls them a syringe.
_NOT_SINGLE_WORDS = ("PEN", "INJECTOR", "CARTRIDGE")
_MULTI_WORDS = ("MULTI-DOSE", "MULTIPLE-DOSE", "MULTI DOSE", "MULTIPLE DOSE", "PHARMACY BULK")
_FDA_UNITS = {"ML": "mL", "L": "L", "MG": "mg", "G": "g", "MCG": "mcg"}


class ContainerFileError(ValueError):
    """A container file does not have the documented layout."""


@dataclass(frozen=True)
class Container:
    """One package's container and what one container holds."""

    kind: str  # codes.CONTAINER_SINGLE_DOSE | codes.CONTAINER_MULTI_DOSE
    content_amount: Decimal | None = None
    content_unit: str | None = None  # UCUM-ish: mg, mL, [iU], mcg …
    source: str = ""


@dataclass(frozen=True)
class ContainerTable:
    """Container of each package, by 11-digit NDC."""

    by_ndc: dict[str, Container] = field(default_factory=dict)

    @classmethod
    def shipped(cls) -> ContainerTable:
        """The shipped table alone."""
        return _shipped()

    def container(self, ndc11: str | None) -> Container | None:
        """The container of a package, when known."""
        return self.by_ndc.get(ndc11) if ndc11 else None

    def merged(self, other: ContainerTable) -> ContainerTable:
        """This table with ``other``'s packages on top."""
        return ContainerTable({**self.by_ndc, **other.by_ndc})


def container_kind(description: str) -> str | None:
    """Single-dose, multi-dose or unknown, from an FDA package description."""
    levels = _LEVEL_SPLIT.split(description.upper())
    inner = levels[-1] if levels else ""
    for text in (inner, description.upper()):
        if any(word in text for word in _MULTI_WORDS):
            return codes.CONTAINER_MULTI_DOSE
        if any(re.search(rf"\b{w}\b", text) for w in _NOT_SINGLE_WORDS):
            return None
        if any(word in text for word in _SINGLE_WORDS):
            return codes.CONTAINER_SINGLE_DOSE
    return None


def container_content(description: str) -> tuple[Decimal, str] | None:
    """The innermost level's amount and unit ("10 mL in 1 VIAL" -> (10, "mL"))."""
    levels = _LEVEL_SPLIT.split(description.strip())
    match = _LEVEL.match(levels[-1]) if levels else None
    if not match:
        return None
    unit = _FDA_UNITS.get(match.group(2).strip().upper())
    if unit is None:
        return None
    try:
        return Decimal(match.group(1).replace(",", "")), unit
    except InvalidOperation:
        return None


def read_fda_package_file(text: str, source: str) -> ContainerTable:
    """The containers named by an FDA NDC Directory package file (tab- or comma-separated)."""
    lines = text.splitlines()
    if not lines:
        raise ContainerFileError(f"{source}: empty file")
    delimiter = "\t" if "\t" in lines[0] else ","
    reader = csv.DictReader(lines, delimiter=delimiter)
    fields = {f.strip().upper(): f for f in reader.fieldnames or ()}
    if "NDCPACKAGECODE" not in fields or "PACKAGEDESCRIPTION" not in fields:
        raise ContainerFileError(
            f"{source}: header must name NDCPACKAGECODE and PACKAGEDESCRIPTION (FDA package file)"
        )
    table: dict[str, Container] = {}
    for row in reader:
        ndc11 = normalise_ndc((row.get(fields["NDCPACKAGECODE"]) or "").strip())
        description = (row.get(fields["PACKAGEDESCRIPTION"]) or "").strip()
        kind = container_kind(description) if description else None
        if ndc11 is None or kind is None:
            continue
        content = container_content(description)
        table[ndc11] = Container(
            kind,
            content[0] if content else None,
            content[1] if content else None,
            f"FDA NDC Directory package file {source}",
        )
    return ContainerTable(table)


def load_fda_package_file(path: Path) -> ContainerTable:
    """Read the FDA NDC Directory package file at ``path``."""
    return read_fda_package_file(path.read_text("utf-8-sig", errors="replace"), path.name)


def read_container_csv(text: str) -> ContainerTable:
    """The shipped layout (``ndc11,container,content_amount,content_unit,drug,source``)."""
    table: dict[str, Container] = {}
    for row in csv.DictReader(text.splitlines()):
        ndc11 = normalise_ndc(row["ndc11"].strip())
        kind = row["container"].strip()
        if ndc11 is None or kind not in codes.CONTAINER_KINDS:
            raise ContainerFileError(f"containers: bad row {row['ndc11']!r} {kind!r}")
        amount = row["content_amount"].strip()
        table[ndc11] = Container(
            kind,
            Decimal(amount) if amount else None,
            row["content_unit"].strip() or None,
            row["source"].strip(),
        )
    return ContainerTable(table)


@lru_cache(maxsize=1)
def _shipped() -> ContainerTable:
    data = resources.files("injection_cds.reference.data").joinpath(_SHIPPED)
    return read_container_csv(data.read_text("utf-8"))
