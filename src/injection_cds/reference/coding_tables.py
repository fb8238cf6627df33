"""Shipped coding tables: complex drugs (chemotherapy administration) and vaccine products.

``data/complex_drugs.csv``: drugs that take chemotherapy administration codes although their
HCPCS code is not J9xxx (biologics), or that take the hormonal code 96402; each row sourced.
``data/vaccine_products.csv``: CVX -> CPT vaccine product code, the vaccine's kind (Medicare
Part B routing) and its component count (90461), hand-curated from CDC's CPT-CVX mapping.
The tables are read once; rules see them through ``RuleContext``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from injection_cds.core.facts import Drug

COMPLEX_DRUG_HORMONAL = "hormonal"
COMPLEX_DRUG_BIOLOGIC = "biologic"


@dataclass(frozen=True)
class ComplexDrug:
    """A drug billed with chemotherapy administration codes (or 96402), and why."""

    name: str
    hcpcs: str
    kind: str  # COMPLEX_DRUG_HORMONAL | COMPLEX_DRUG_BIOLOGIC
    match_names: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class ComplexDrugTable:
    """Lookup of complex drugs by HCPCS code and by name in the drug's text."""

    rows: tuple[ComplexDrug, ...] = ()
    _by_hcpcs: dict[str, ComplexDrug] = field(default_factory=dict, repr=False)
    _names: tuple[tuple[re.Pattern[str], ComplexDrug], ...] = field(default=(), repr=False)

    @classmethod
    def build(cls, rows: list[ComplexDrug]) -> ComplexDrugTable:
        """A table over these rows (longer names match first)."""
        names = sorted(
            ((name, row) for row in rows for name in row.match_names), key=lambda p: -len(p[0])
        )
        return cls(
            rows=tuple(rows),
            _by_hcpcs={row.hcpcs: row for row in rows},
            _names=tuple(
                (re.compile(r"(?<![a-z])" + re.escape(name) + r"(?![a-z])"), row)
                for name, row in names
            ),
        )

    def find(self, drug: Drug | None, hcpcs: str | None) -> ComplexDrug | None:
        """The row for a drug: by its HCPCS code, else by a name in its text."""
        if hcpcs and hcpcs.upper() in self._by_hcpcs:
            return self._by_hcpcs[hcpcs.upper()]
        if drug is None:
            return None
        text = drug.searchable_text()
        for pattern, row in self._names:
            if pattern.search(text):
                return row
        return None


@dataclass(frozen=True)
class VaccineProduct:
    """One CVX code's CPT product code, kind and number of components."""

    cvx: str
    cpt: str
    kind: str  # codes.VACCINE_*
    components: int
    vaccine: str
    source: str


@dataclass(frozen=True)
class VaccineProductTable:
    """CVX -> product, and CPT product code -> kind/components."""

    by_cvx: dict[str, VaccineProduct] = field(default_factory=dict)
    by_cpt: dict[str, VaccineProduct] = field(default_factory=dict)

    @classmethod
    def build(cls, rows: list[VaccineProduct]) -> VaccineProductTable:
        """A table over these rows (the first row of a CPT code gives its kind)."""
        by_cpt: dict[str, VaccineProduct] = {}
        for row in rows:
            by_cpt.setdefault(row.cpt, row)
        return cls(by_cvx={normal_cvx(row.cvx): row for row in rows}, by_cpt=by_cpt)

    def for_cvx(self, cvx: str | None) -> VaccineProduct | None:
        """The product row of a CVX code, if shipped."""
        return self.by_cvx.get(normal_cvx(cvx)) if cvx else None


def normal_cvx(cvx: str) -> str:
    """CVX codes compare without leading zeros ("08" == "8")."""
    return cvx.strip().lstrip("0") or "0"


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("injection_cds.reference.data").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def shipped_complex_drugs() -> ComplexDrugTable:
    """The shipped complex-drug table."""
    return ComplexDrugTable.build(
        [
            ComplexDrug(
                name=row["name"].strip(),
                hcpcs=row["hcpcs"].strip().upper(),
                kind=row["kind"].strip(),
                match_names=tuple(
                    n.strip().lower() for n in row["match_names"].split("|") if n.strip()
                ),
                source=row["source"].strip(),
            )
            for row in _read("complex_drugs.csv")
        ]
    )


@lru_cache(maxsize=1)
def shipped_vaccine_products() -> VaccineProductTable:
    """The shipped CVX -> CPT vaccine product table."""
    return VaccineProductTable.build(
        [
            VaccineProduct(
                cvx=row["cvx"].strip(),
                cpt=row["cpt"].strip(),
                kind=row["kind"].strip(),
                components=int(row["components"]),
                vaccine=row["vaccine"].strip(),
                source=row["source"].strip(),
            )
            for row in _read("vaccine_products.csv")
        ]
    )
