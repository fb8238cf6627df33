"""One quarter of CMS drug data, loaded for lookups: every answer is a dictionary access.

A quarter comes from the shipped ``data/cms-<quarter>.json.gz`` (built by ``injection-cds
reference build``) or from files a user loaded (``injection-cds reference load``). The
document layout (``format`` 1)::

    {"format": 1, "quarter": "2026Q1", "start": "2026-01-01", "end": "2026-03-31",
     "files": {"crosswalk"|"pricing"|"opps": {"name", "title", "start", "end"}},
     "codes": {code: [short description ("" for CPT), dosage as published, amount, unit,
                      kind, payment limit per unit ("" if none), OPPS status indicator]},
     "ndcs": {ndc11: [[code, drug name, labeler, package size, package quantity,
                       billing units per item, billing units per package], ...]},
     "opps": {code: [status indicator, short description ("" for CPT)]}}

``opps`` holds the other drug codes of Addendum B (NOC J3490, codes without an ASP), so a
code is "in this quarter's files" when it is in ``codes`` or ``opps``.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import orjson

from injection_cds.core import codes as code_systems
from injection_cds.reference.dosage import Dosage
from injection_cds.reference.names import NameIndex

FORMAT = 1
# Addendum B descriptions that name no drug (NOC codes) or no injected one.
_NOT_A_NAME = re.compile(r"unclassified|\bnoc\b|not otherwise|\boral\b|\binh\b", re.IGNORECASE)


@dataclass(frozen=True)
class FileInfo:
    """A CMS file a quarter was built from, as the card names it."""

    name: str
    title: str
    start: date | None
    end: date | None

    @property
    def label(self) -> str:
        """``asp-pricing-2026q1.csv, effective 2026-01-01``."""
        return f"{self.name}, effective {self.start}" if self.start else self.name


@dataclass(frozen=True)
class CodeFacts:
    """One drug code of the quarter."""

    code: str
    system: str  # CPT for the 90xxx products, HCPCS Level II otherwise
    description: str  # HCPCS Level II short description; "" for CPT (AMA text not shipped)
    dosage_text: str
    dosage: Dosage | None
    payment_limit: Decimal | None
    status_indicator: str | None


@dataclass(frozen=True)
class Package:
    """One NDC of the crosswalk: its code and what one package holds in billing units."""

    ndc11: str
    code: str
    drug_name: str
    labeler: str
    size: Decimal | None  # one item: mL for liquids, 1 for a vial, kit or device
    quantity: Decimal | None  # items per package
    units_per_item: Decimal | None
    units_per_package: Decimal | None


@dataclass(frozen=True)
class DrugQuarter:
    """The codes, packages, prices and statuses of one quarter, indexed."""

    label: str  # "2026Q1"
    start: date
    end: date
    files: dict[str, FileInfo]
    codes: dict[str, CodeFacts]
    packages: dict[str, tuple[Package, ...]]  # ndc11 -> its rows (one per code)
    products: dict[str, tuple[str, ...]]  # labeler+product (9 digits) -> codes
    other_codes: dict[str, tuple[str, str]]  # Addendum B drug codes without an ASP row
    names: NameIndex = field(default_factory=NameIndex)

    def codes_for_ndc(self, ndc11: str) -> tuple[str, ...]:
        """The codes the crosswalk gives this package NDC (several for a few products)."""
        return tuple(p.code for p in self.packages.get(ndc11, ()))

    def codes_for_product(self, ndc11: str) -> tuple[str, ...]:
        """The codes of any package of the same labeler and product."""
        return self.products.get(ndc11[:9], ())

    def package(self, ndc11: str, code: str) -> Package | None:
        """The crosswalk row of this NDC under this code."""
        return next((p for p in self.packages.get(ndc11, ()) if p.code == code), None)

    def has_code(self, code: str) -> bool:
        """Whether the code is in this quarter's files (ASP crosswalk, pricing, Addendum B)."""
        return code in self.codes or code in self.other_codes

    def status_indicator(self, code: str) -> str | None:
        """The OPPS status indicator of a code, from Addendum B."""
        facts = self.codes.get(code)
        if facts is not None and facts.status_indicator:
            return facts.status_indicator
        other = self.other_codes.get(code)
        return other[0] if other and other[0] else None

    def covers(self, day: date) -> bool:
        """Whether a date of service falls in this quarter."""
        return self.start <= day <= self.end


def system_of_code(code: str) -> str:
    """CPT for five digits (vaccine and immune globulin products), HCPCS Level II otherwise."""
    return code_systems.CPT if code[:1].isdigit() else code_systems.HCPCS


def is_oral(facts: CodeFacts) -> bool:
    """An oral drug code (J8xxx, "oral" in the description): never what was injected."""
    return facts.code.startswith("J8") or "oral" in facts.description.lower().split()


def _decimal(value: str) -> Decimal | None:
    return Decimal(value) if value else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def quarter_from_document(document: Mapping[str, Any]) -> DrugQuarter:
    """A DrugQuarter from the JSON document (layout in the module docstring)."""
    if document.get("format") != FORMAT:
        raise ValueError(f"reference document format {document.get('format')!r}, want {FORMAT}")
    codes: dict[str, CodeFacts] = {}
    for code, (description, text, amount, unit, kind, limit, si) in document["codes"].items():
        dosage = Dosage(Decimal(amount), unit, kind) if amount else None
        codes[code] = CodeFacts(
            code, system_of_code(code), description, text, dosage, _decimal(limit), si or None
        )
    packages: dict[str, tuple[Package, ...]] = {}
    products: dict[str, set[str]] = {}
    named: list[tuple[str, str]] = [
        (c.description, c.code) for c in codes.values() if not is_oral(c)
    ]
    for ndc11, rows in document["ndcs"].items():
        packages[ndc11] = tuple(
            Package(
                ndc11,
                code,
                name,
                labeler,
                _decimal(size),
                _decimal(quantity),
                _decimal(per_item),
                _decimal(per_package),
            )
            for code, name, labeler, size, quantity, per_item, per_package in rows
        )
        for package in packages[ndc11]:
            products.setdefault(ndc11[:9], set()).add(package.code)
            if package.code in codes and not is_oral(codes[package.code]):
                named.append((package.drug_name, package.code))
    for code, (_status, description) in document["opps"].items():
        if description and not _NOT_A_NAME.search(description) and not code.startswith("J8"):
            named.append((description, code))
    files = {
        kind: FileInfo(raw["name"], raw["title"], _day(raw.get("start")), _day(raw.get("end")))
        for kind, raw in document["files"].items()
    }
    return DrugQuarter(
        label=document["quarter"],
        start=date.fromisoformat(document["start"]),
        end=date.fromisoformat(document["end"]),
        files=files,
        codes=codes,
        packages=packages,
        products={k: tuple(sorted(v)) for k, v in products.items()},
        other_codes={k: (v[0], v[1]) for k, v in document["opps"].items()},
        names=NameIndex.build(dict.fromkeys(named)),  # drug names repeat across NDCs
    )


def read_quarter(raw: bytes) -> DrugQuarter:
    """A quarter from the gzip'd JSON bytes of a reference file."""
    return quarter_from_document(orjson.loads(gzip.decompress(raw)))
