"""Reference data: the shipped table of common injectables, and drug identification.

Drug identity (RULES.md): a HCPCS coding on the drug wins; then the NDC through a loaded
ASP crosswalk; then the RxNorm ingredient code through the shipped table; then the
ingredient name in the drug's text or display.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from injection_cds.core.facts import Drug

_SHIPPED_TABLE = "injectables.csv"
_IDENTIFY_CACHE_SIZE = 4096
_RECENT_SIZE = 256


@dataclass(frozen=True)
class CatalogEntry:
    """One drug of the catalog: its HCPCS code, billing unit and flags."""

    name: str
    hcpcs: str | None
    amount: Decimal | None  # descriptor amount (per X, or up to X)
    unit: str | None  # UCUM-ish unit of the descriptor amount
    up_to: bool = False  # "up to X": one unit for any dose <= X
    vaccine: bool = False
    antineoplastic: bool = False
    hormonal: bool = False
    self_administered: bool = False
    allergen: bool = False
    match_names: tuple[str, ...] = ()
    rxnorm_ingredients: tuple[str, ...] = ()
    source: str = ""
    cvx_codes: tuple[str, ...] = ()  # vaccines: the CVX codes this row covers
    vaccine_kind: str | None = None  # codes.VACCINE_* (Medicare G-code routing, BIL003)
    components: int = 1  # vaccine components (antigens) for 90460/+90461


def _flag(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip().lower() for v in value.split("|") if v.strip())


def read_catalog_csv(text: str) -> list[CatalogEntry]:
    """Parse the catalog CSV layout (see ``data/injectables.csv``)."""
    entries = []
    for row in csv.DictReader(text.splitlines()):
        entries.append(
            CatalogEntry(
                name=row["name"].strip(),
                hcpcs=row["hcpcs"].strip() or None,
                amount=Decimal(row["amount"]) if row["amount"].strip() else None,
                unit=row["unit"].strip() or None,
                up_to=_flag(row["up_to"]),
                vaccine=_flag(row["vaccine"]),
                antineoplastic=_flag(row["antineoplastic"]),
                hormonal=_flag(row["hormonal"]),
                self_administered=_flag(row["self_administered"]),
                allergen=_flag(row["allergen"]),
                match_names=_split(row["match_names"]) or (row["name"].strip().lower(),),
                rxnorm_ingredients=_split(row["rxnorm_ingredients"]),
                source=row["source"].strip(),
                cvx_codes=_split(row.get("cvx") or ""),
                vaccine_kind=(row.get("vaccine_kind") or "").strip() or None,
                components=int(row.get("components") or "1"),
            )
        )
    return entries


@dataclass(frozen=True)
class DrugCatalog:
    """Lookup of drugs by HCPCS code, NDC (crosswalk), RxNorm ingredient and name."""

    entries: tuple[CatalogEntry, ...] = ()
    ndc_to_hcpcs: dict[str, str] = field(default_factory=dict)  # 11-digit NDC -> HCPCS
    _by_hcpcs: dict[str, CatalogEntry] = field(default_factory=dict, repr=False)
    _by_rxnorm: dict[str, CatalogEntry] = field(default_factory=dict, repr=False)
    _by_cvx: dict[str, CatalogEntry] = field(default_factory=dict, repr=False)
    _names: tuple[tuple[re.Pattern[str], CatalogEntry], ...] = field(default=(), repr=False)
    # identify() is asked about the same drug by many rules of one visit, and about the same
    # few products all day: remember the answers (bounded; the catalog never changes).
    _identified: dict[tuple[Drug, str | None], CatalogEntry | None] = field(
        default_factory=dict, repr=False, compare=False
    )
    # The rules of one visit ask about the *same* Drug object a dozen times: answer those
    # by identity, before hashing the whole drug (it holds the drug, so ids are not reused).
    _recent: dict[tuple[int, str | None], tuple[Drug, CatalogEntry | None]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def build(
        cls, entries: list[CatalogEntry], ndc_to_hcpcs: dict[str, str] | None = None
    ) -> DrugCatalog:
        """A catalog over these entries (longer names match first: 'insulin glargine')."""
        names = sorted(
            ((name, e) for e in entries for name in e.match_names),
            key=lambda pair: -len(pair[0]),
        )
        return cls(
            entries=tuple(entries),
            ndc_to_hcpcs=dict(ndc_to_hcpcs or {}),
            _by_hcpcs={e.hcpcs: e for e in entries if e.hcpcs},
            _by_rxnorm={code: e for e in entries for code in e.rxnorm_ingredients},
            _by_cvx={code: e for e in entries for code in e.cvx_codes},
            _names=tuple(
                (re.compile(r"(?<![a-z])" + re.escape(name) + r"(?![a-z])"), e) for name, e in names
            ),
        )

    @classmethod
    def shipped(cls) -> DrugCatalog:
        """The catalog of the shipped table alone."""
        return _shipped_catalog()

    def with_crosswalk(
        self, ndc_to_hcpcs: dict[str, str], extra_entries: tuple[CatalogEntry, ...] = ()
    ) -> DrugCatalog:
        """This catalog plus a loaded NDC-HCPCS crosswalk and descriptor rows."""
        merged = dict(self.ndc_to_hcpcs)
        merged.update(ndc_to_hcpcs)
        known = {e.hcpcs for e in self.entries if e.hcpcs}
        rows = list(self.entries) + [e for e in extra_entries if e.hcpcs not in known]
        return DrugCatalog.build(rows, merged)

    def by_hcpcs(self, code: str) -> CatalogEntry | None:
        """The catalog row of a HCPCS code, if shipped or loaded."""
        return self._by_hcpcs.get(code.upper())

    def identify(self, drug: Drug | None, ndc11: str | None = None) -> CatalogEntry | None:
        """The catalog entry for a drug, by HCPCS, NDC crosswalk, CVX, RxNorm, then name."""
        if drug is None:
            return None
        recent = self._recent.get((id(drug), ndc11))
        if recent is not None and recent[0] is drug:
            return recent[1]
        entry = self._identify_cached(drug, ndc11)
        if len(self._recent) >= _RECENT_SIZE:
            self._recent.clear()
        self._recent[(id(drug), ndc11)] = (drug, entry)
        return entry

    def _identify_cached(self, drug: Drug, ndc11: str | None) -> CatalogEntry | None:
        key = (drug, ndc11)
        try:
            return self._identified[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value inside the drug: just look it up
            return self._identify(drug, ndc11)
        if len(self._identified) >= _IDENTIFY_CACHE_SIZE:
            self._identified.clear()
        entry = self._identify(drug, ndc11)
        self._identified[key] = entry
        return entry

    def _identify(self, drug: Drug, ndc11: str | None) -> CatalogEntry | None:
        if drug.hcpcs:
            entry = self._by_hcpcs.get(drug.hcpcs.upper())
            return entry or CatalogEntry(
                name=drug.name, hcpcs=drug.hcpcs.upper(), amount=None, unit=None
            )
        if ndc11 and ndc11 in self.ndc_to_hcpcs:
            hcpcs = self.ndc_to_hcpcs[ndc11]
            return self._by_hcpcs.get(hcpcs) or CatalogEntry(
                name=drug.name, hcpcs=hcpcs, amount=None, unit=None
            )
        if drug.cvx and drug.cvx.lstrip("0").zfill(2) in self._by_cvx:
            return self._by_cvx[drug.cvx.lstrip("0").zfill(2)]
        for code in drug.rxnorm_codes:
            if code in self._by_rxnorm:
                return self._by_rxnorm[code]
        text = drug.searchable_text()
        if not text:
            return None
        for pattern, entry in self._names:
            if pattern.search(text):
                return entry
        return None


@lru_cache(maxsize=1)
def _shipped_catalog() -> DrugCatalog:
    text = (
        resources.files("injection_cds.reference.data").joinpath(_SHIPPED_TABLE).read_text("utf-8")
    )
    return DrugCatalog.build(read_catalog_csv(text))


VACCINE_PRODUCT_CPT_RANGE = (90476, 90759)


def is_vaccine_product_code(code: str) -> bool:
    """A CPT vaccine or toxoid product code (90476-90759)."""
    return (
        code.isdigit()
        and VACCINE_PRODUCT_CPT_RANGE[0] <= int(code) <= (VACCINE_PRODUCT_CPT_RANGE[1])
    )


def is_vaccine(drug: Drug | None, catalog: DrugCatalog) -> bool:
    """A vaccine or toxoid: a CVX code, a CPT product code 90476-90759, or the catalog says so."""
    if drug is None:
        return False
    if drug.cvx or any(is_vaccine_product_code(code) for code in drug.cpt_codes):
        return True
    entry = catalog.identify(drug)
    if entry is not None and entry.vaccine:
        return True
    text = drug.searchable_text()
    return "vaccine" in text or "toxoid" in text


# --- loaded CMS data (loaders.py reads the files; these hold what was read) -----------------
@dataclass(frozen=True)
class MueEntry:
    """One row of a CMS MUE table: the unit limit per date of service and its adjudication."""

    code: str
    limit: int
    mai: str | None = None  # MUE adjudication indicator: "1" line, "2"/"3" date of service
    rationale: str | None = None


@dataclass(frozen=True)
class MueTable:
    """A loaded MUE table (practitioner or outpatient hospital) and the file it came from."""

    kind: str  # codes.MUE_PRACTITIONER | codes.MUE_OUTPATIENT_HOSPITAL
    source: str  # the file name, shown on the card
    entries: dict[str, MueEntry] = field(default_factory=dict)


@dataclass(frozen=True)
class FeeSchedule:
    """A loaded fee schedule: rate per code (and modifier), non-facility and facility."""

    name: str
    year: int | None
    source: str
    rates: dict[tuple[str, str], tuple[Decimal | None, Decimal | None]] = field(
        default_factory=dict
    )  # (code, modifier or "") -> (non-facility rate, facility rate)

    def rate(
        self, code: str, modifiers: tuple[str, ...] = (), *, facility: bool = False
    ) -> Decimal | None:
        """The rate for a code (a modifier-specific row first), facility or not."""
        for modifier in (*modifiers, ""):
            found = self.rates.get((code.upper(), modifier.upper()))
            if found is not None:
                non_facility, facility_rate = found
                return (facility_rate or non_facility) if facility else non_facility
        return None
