"""Reference data: the CMS quarters, the hand-curated table, and drug identification.

Drug identity, as a coder does it (docs/reference-data.md): a HCPCS coding on the drug; the
package NDC (on the drug, in a local system with an NDC's shape, or on the order's
Medication); the product NDC (labeler + product); the CVX and RxNorm codes of the curated
table; the drug's name in its text, the curated names first, then the crosswalk's drug names
and descriptions (salts and forms set aside). An NDC or name with several codes comes back
with its ``alternatives`` (never the last row read). Every lookup is a dictionary access.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from injection_cds.core import codes
from injection_cds.core.facts import Drug
from injection_cds.core.ndc import normalise_ndc
from injection_cds.reference.dosage import EACH, UP_TO
from injection_cds.reference.drugref import DrugQuarter, Package, is_oral, read_quarter

_SHIPPED_TABLE = "injectables.csv"
_CHOICES = "code-choices.csv"
_REPLACEMENTS = "code-replacements.csv"
_IDENTIFY_CACHE_SIZE = 4096
_ENTRY_CACHE_SIZE = 32768  # every NDC of a quarter under each code, with room
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
    system: str = codes.HCPCS  # CPT for the 90xxx vaccine and immune globulin products
    each: bool = False  # "1 EA", "Per Dose": one unit per item given
    alternatives: tuple[str, ...] = ()  # other codes the same NDC or name maps to
    found_by: str = ""  # hcpcs | ndc | order-ndc | product-ndc | cvx | rxnorm | name
    ndc11: str | None = None  # the package NDC the code was found by
    package: Package | None = None  # its crosswalk row (sizes, billing units)
    payment_limit: Decimal | None = None  # Medicare Part B limit per unit (ASP + 6 %)
    status_indicator: str | None = None  # OPPS status indicator (Addendum B)
    quarter: str | None = None  # the CMS quarter the figures come from ("2026Q1")
    decided_by: CodeChoice | None = None  # the sourced rule that chose among an NDC's codes

    @property
    def ambiguous(self) -> bool:
        """The NDC or name maps to more than one code and nothing here decided."""
        return bool(self.alternatives)


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
    """Lookup of drugs by HCPCS code, NDC, RxNorm, CVX and name, in one CMS quarter."""

    entries: tuple[CatalogEntry, ...] = ()
    ndc_to_hcpcs: dict[str, str] = field(default_factory=dict)  # a loaded crosswalk (legacy)
    quarters: tuple[DrugQuarter, ...] = ()  # every loaded quarter, oldest first
    quarter: DrugQuarter | None = None  # the quarter lookups answer from
    choices: dict[str, CodeChoice] = field(default_factory=dict)  # data/code-choices.csv
    _by_hcpcs: dict[str, CatalogEntry] = field(default_factory=dict, repr=False)
    _by_rxnorm: dict[str, CatalogEntry] = field(default_factory=dict, repr=False)
    _by_cvx: dict[str, CatalogEntry] = field(default_factory=dict, repr=False)
    _by_name: dict[str, CatalogEntry] = field(default_factory=dict, repr=False)
    _name_lengths: tuple[int, ...] = field(default=(), repr=False)
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
    _at: dict[str, DrugCatalog] = field(default_factory=dict, repr=False, compare=False)
    # A code's entry is built once per (code, how found, NDC, alternatives): the catalog
    # never changes, so identify() after the first time is dictionary accesses only.
    _entries: dict[tuple[str, str, str | None, tuple[str, ...]], CatalogEntry | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def build(
        cls,
        entries: list[CatalogEntry],
        ndc_to_hcpcs: dict[str, str] | None = None,
        quarters: tuple[DrugQuarter, ...] = (),
        quarter: DrugQuarter | None = None,
        choices: dict[str, CodeChoice] | None = None,
    ) -> DrugCatalog:
        """A catalog over these entries and quarters (the newest quarter answers by default)."""
        ordered = tuple(sorted(quarters, key=lambda q: q.start))
        by_name: dict[str, CatalogEntry] = {}
        for e in entries:
            for name in e.match_names:
                by_name.setdefault(" ".join(_NAME_WORD.findall(name)), e)
        return cls(
            entries=tuple(entries),
            ndc_to_hcpcs=dict(ndc_to_hcpcs or {}),
            quarters=ordered,
            quarter=quarter if quarter is not None else (ordered[-1] if ordered else None),
            choices=dict(choices if choices is not None else _shipped_choices()),
            _by_hcpcs={e.hcpcs: e for e in entries if e.hcpcs},
            _by_rxnorm={code: e for e in entries for code in e.rxnorm_ingredients},
            _by_cvx={code: e for e in entries for code in e.cvx_codes},
            _by_name=by_name,
            _name_lengths=tuple(sorted({len(k.split()) for k in by_name}, reverse=True)),
        )

    @classmethod
    def shipped(cls) -> DrugCatalog:
        """The curated table and the shipped CMS quarter(s)."""
        return _shipped_catalog()

    def with_crosswalk(
        self, ndc_to_hcpcs: dict[str, str], extra_entries: tuple[CatalogEntry, ...] = ()
    ) -> DrugCatalog:
        """This catalog plus a loaded NDC-HCPCS crosswalk and descriptor rows."""
        merged = dict(self.ndc_to_hcpcs)
        merged.update(ndc_to_hcpcs)
        known = {e.hcpcs for e in self.entries if e.hcpcs}
        rows = list(self.entries) + [e for e in extra_entries if e.hcpcs not in known]
        return DrugCatalog.build(rows, merged, self.quarters, None, self.choices)

    def with_quarters(self, quarters: tuple[DrugQuarter, ...]) -> DrugCatalog:
        """This catalog plus quarters loaded by the user.

        A loaded quarter replaces a shipped one of the same label.
        """
        by_label = {q.label: q for q in self.quarters}
        by_label.update({q.label: q for q in quarters})
        return DrugCatalog.build(
            list(self.entries), self.ndc_to_hcpcs, tuple(by_label.values()), None, self.choices
        )

    def at(self, day: date | None) -> DrugCatalog:
        """The catalog answering from the quarter that covers a date of service.

        The newest quarter that started on or before the day (a date past the newest quarter
        uses the newest; one before the oldest uses the oldest, as the nearest there is).
        """
        if day is None or len(self.quarters) < 2:
            return self
        chosen = self.quarters[0]
        for quarter in self.quarters:
            if quarter.start <= day:
                chosen = quarter
        if chosen is self.quarter:
            return self
        cached = self._at.get(chosen.label)
        if cached is None:
            cached = DrugCatalog.build(
                list(self.entries), self.ndc_to_hcpcs, self.quarters, chosen, self.choices
            )
            self._at[chosen.label] = cached
        return cached

    def decide(
        self, entry: CatalogEntry, *, esrd_on_dialysis: bool, route: str | None
    ) -> CatalogEntry:
        """An ambiguous entry decided by a sourced rule of ``data/code-choices.csv``.

        ESAs and the other ESRD/non-ESRD pairs: the ESRD code when the patient is on
        dialysis for end-stage renal disease (N18.6, Z99.2), else the non-ESRD code; the
        HepaGam B pair by route. Entries no rule decides are returned as they are.
        """
        if entry.hcpcs is None:
            return entry
        for choice in self.choices.values():
            if choice.replaces == entry.hcpcs and route in choice.routes:
                chosen = self._code_entry(choice.code, entry.found_by, entry.ndc11) or entry
                return replace(chosen, alternatives=(), decided_by=choice)
        if not entry.alternatives:
            return entry
        wanted = {"esrd-dialysis" if esrd_on_dialysis else "not-esrd-dialysis"}
        if route is not None:
            wanted.add(f"route-{route}")
        candidates = (entry.hcpcs, *entry.alternatives)
        fitting = [c for c in candidates if c in self.choices and self.choices[c].when in wanted]
        if len(fitting) != 1:
            return entry
        chosen = self._code_entry(fitting[0], entry.found_by, entry.ndc11) or entry
        return replace(chosen, alternatives=(), decided_by=self.choices[fitting[0]])

    def by_hcpcs(self, code: str) -> CatalogEntry | None:
        """The entry of a HCPCS (or CPT product) code: curated facts plus the quarter's."""
        return self._code_entry(code.upper(), "hcpcs")

    def in_force(self, code: str) -> str:
        """The code in force on the date of service for a charted drug code.

        A code the quarter's CMS files no longer list and that a sourced table says was
        replaced (``data/code-replacements.csv``: J1020/J1030/J1040 deleted 2024-04-01, J1010
        per 1 mg instead) is billed as its replacement, with the replacement's units (80 mg of
        Depo-Medrol charted as J1040 bills J1010 x 80); BIL015 still asks for the chart to be
        corrected. Any other code is kept as charted.
        """
        replacement = shipped_replacements().get(code)
        if replacement is None or self.quarter is None or self.quarter.has_code(code):
            return code
        return replacement.replaced_by

    def has_code(self, code: str) -> bool | None:
        """Whether the quarter's files list the code; None when no quarter is loaded."""
        if self.quarter is None:
            return None
        return self.quarter.has_code(code.upper())

    def knows_injectable(self, drug: Drug) -> bool:
        """The reference maps the drug's NDC (or its order's) to an injected drug code."""
        quarter = self.quarter
        if quarter is None:
            return False
        for ndc11 in drug_ndc11s(drug):
            for code in quarter.codes_for_ndc(ndc11) or quarter.codes_for_product(ndc11):
                facts = quarter.codes.get(code)
                if facts is not None and not is_oral(facts) and not _inhaled(facts.description):
                    return True
        return False

    def _code_entry(
        self, code: str, found_by: str, ndc11: str | None = None, others: tuple[str, ...] = ()
    ) -> CatalogEntry | None:
        key = (code, found_by, ndc11, others)
        try:
            return self._entries[key]
        except KeyError:
            pass
        entry = self._new_code_entry(code, found_by, ndc11, others)
        if len(self._entries) >= _ENTRY_CACHE_SIZE:
            self._entries.clear()
        self._entries[key] = entry
        return entry

    def _new_code_entry(
        self, code: str, found_by: str, ndc11: str | None, others: tuple[str, ...]
    ) -> CatalogEntry | None:
        curated = self._by_hcpcs.get(code)
        quarter = self.quarter
        facts = quarter.codes.get(code) if quarter is not None else None
        if curated is None and facts is None:
            if quarter is not None and code in quarter.other_codes:
                curated = CatalogEntry(
                    name=quarter.other_codes[code][1].lower() or code,
                    hcpcs=code,
                    amount=None,
                    unit=None,
                )
            else:
                return None
        package = quarter.package(ndc11, code) if quarter is not None and ndc11 else None
        if curated is None and package is not None:
            curated = self._curated_by_name(package.drug_name)  # flags: vaccine kind, SAD
        vaccine = is_vaccine_product_code(code)
        base = curated or CatalogEntry(
            name=(facts.description.lower() if facts and facts.description else code),
            hcpcs=code,
            amount=None,
            unit=None,
            antineoplastic=code.startswith("J9"),
            vaccine=vaccine,
            vaccine_kind=codes.VACCINE_OTHER if vaccine else None,
            source="CMS ASP files",
        )
        dosage = facts.dosage if facts is not None else None
        return replace(
            base,
            hcpcs=code,
            vaccine=base.vaccine or vaccine,
            amount=dosage.amount if dosage else base.amount,
            unit=dosage.unit if dosage else base.unit,
            up_to=(dosage.kind == UP_TO if dosage else False) or base.up_to,
            each=dosage.kind == EACH if dosage else base.each,
            system=facts.system if facts else (codes.CPT if code[:1].isdigit() else codes.HCPCS),
            alternatives=tuple(c for c in others if c != code),
            found_by=found_by,
            ndc11=ndc11,
            package=package,
            payment_limit=facts.payment_limit if facts else None,
            status_indicator=quarter.status_indicator(code) if quarter is not None else None,
            quarter=quarter.label if quarter is not None else None,
        )

    def _codes_entry(
        self, found: tuple[str, ...], found_by: str, ndc11: str | None = None
    ) -> CatalogEntry | None:
        """One code, or the first of several with the others as alternatives."""
        if not found:
            return None
        return self._code_entry(found[0], found_by, ndc11, found)

    def identify(self, drug: Drug | None, ndc11: str | None = None) -> CatalogEntry | None:
        """The catalog entry for a drug (order of evidence: module docstring)."""
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
            code = self.in_force(drug.hcpcs.upper())
            own = ndc11 or next(iter(drug_ndc11s(drug)), None)
            return self._code_entry(code, "hcpcs", own) or CatalogEntry(
                name=drug.name, hcpcs=code, amount=None, unit=None, found_by="hcpcs"
            )
        ndcs = ([ndc11] if ndc11 else []) + [n for n in drug_ndc11s(drug) if n != ndc11]
        entry = self._by_ndc(drug, ndcs)
        if entry is not None:
            return entry
        for candidate in (drug, drug.order):
            if candidate is None:
                continue
            if candidate.cvx and candidate.cvx.lstrip("0").zfill(2) in self._by_cvx:
                return self._by_cvx[candidate.cvx.lstrip("0").zfill(2)]
            for code in candidate.rxnorm_codes:
                if code in self._by_rxnorm:
                    return self._with_quarter(self._by_rxnorm[code], "rxnorm")
            entry = self._by_text(candidate.searchable_text())
            if entry is not None:
                return entry
        return None

    def _by_ndc(self, drug: Drug, ndcs: list[str]) -> CatalogEntry | None:
        quarter = self.quarter
        own = set(drug_ndc11s(drug, with_order=False))
        for at, ndc in enumerate(ndcs):
            how = "ndc" if ndc in own else "order-ndc"
            found = quarter.codes_for_ndc(ndc) if quarter is not None else ()
            if found and at + 1 < len(ndcs) and set(found) <= DILUENT_CODES:
                continue  # the saline or dextrose of a mix: the drug is another ingredient
            if found:
                return self._codes_entry(found, how, ndc)
            if ndc in self.ndc_to_hcpcs:
                code = self.ndc_to_hcpcs[ndc]
                return self._code_entry(code, how, ndc) or CatalogEntry(
                    name=drug.name, hcpcs=code, amount=None, unit=None, found_by=how, ndc11=ndc
                )
        for ndc in ndcs if quarter is not None else ():
            found = quarter.codes_for_product(ndc) if quarter is not None else ()
            if found:
                return self._codes_entry(found, "product-ndc", None)
        return None

    def _curated_by_name(self, text: str) -> CatalogEntry | None:
        tokens = _NAME_WORD.findall(text.lower())
        for length in self._name_lengths:
            for start in range(len(tokens) - length + 1):
                found = self._by_name.get(" ".join(tokens[start : start + length]))
                if found is not None:
                    return found
        return None

    def _with_quarter(self, entry: CatalogEntry, found_by: str) -> CatalogEntry:
        if entry.hcpcs is None:
            return entry
        return self._code_entry(entry.hcpcs, found_by) or entry

    def _by_text(self, text: str) -> CatalogEntry | None:
        if not text:
            return None
        if _NOT_BILLED.search(text):
            return None  # a flush is part of the administration (Pub 100-04 ch.12 §30.5)
        if is_parenteral_nutrition_text(text):
            return None  # its electrolytes are not saline J7030 (NCD 180.2: B4164-B5200)
        curated = self._curated_by_name(text)
        if curated is not None:
            return self._with_quarter(curated, "name")
        if self.quarter is not None:
            return self._codes_entry(self.quarter.names.find(text), "name")
        return None


_NAME_WORD = re.compile(r"[a-z0-9()\-']+")
# Infusion solutions: in a mix they are the diluent, not the drug given (J7030-J7070).
DILUENT_CODES = frozenset({"J7030", "J7040", "J7042", "J7050", "J7060", "J7070"})
_NOT_BILLED = re.compile(r"\bflush", re.IGNORECASE)
_PARENTERAL_NUTRITION = re.compile(
    r"\b(" + "|".join(re.escape(w) for w in codes.PARENTERAL_NUTRITION_WORDS) + r")\b",
    re.IGNORECASE,
)
_INHALED = re.compile(r"\b(inh|inhal\w*|non-comp|comp con|comp unit|nebuliz\w*)\b")


def is_parenteral_nutrition_text(text: str) -> bool:
    """The text names parenteral nutrition (codes.PARENTERAL_NUTRITION_WORDS), whatever else.

    A TPN bag lists its electrolytes (sodium chloride, potassium chloride) among its
    ingredients; the product is still nutrition, never the saline those words would find.
    """
    return bool(_PARENTERAL_NUTRITION.search(text))


def _inhaled(description: str) -> bool:
    return bool(_INHALED.search(description.lower()))


def drug_ndc11s(drug: Drug, *, with_order: bool = True) -> list[str]:
    """The package NDCs of a drug (11 digits).

    Its NDC codings, its local codes with an NDC's shape, then those of the order's drug.
    """
    found: list[str] = []
    for candidate in (drug, drug.order if with_order else None):
        if candidate is None:
            continue
        raws = [*candidate.ndcs, *candidate.local_ndcs]
        for ingredient in candidate.ingredients:  # a mix: each ingredient's own NDC
            raws.extend(ingredient.codes(codes.NDC))
            raws.extend(
                c.code
                for c in ingredient.codings
                if c.code
                and c.system not in codes.STANDARD_DRUG_SYSTEMS
                and codes.NDC_SHAPE.match(c.code)
            )
        for raw in raws:
            ndc11 = normalise_ndc(raw)
            if ndc11 and ndc11 not in found:
                found.append(ndc11)
    return found


@dataclass(frozen=True)
class CodeChoice:
    """When a code is the one to bill among an NDC's codes, and the source that says so."""

    code: str
    when: str  # esrd-dialysis | not-esrd-dialysis | route-im | route-iv | route-injection
    source: str
    replaces: str | None = None  # a code the NDC maps to that this route makes the wrong one

    @property
    def routes(self) -> tuple[str, ...]:
        """The routes a ``route-...`` choice applies to (``route-injection``: SC and IM)."""
        if self.when == "route-injection":
            return ("sc", "im")
        return (self.when.removeprefix("route-"),) if self.when.startswith("route-") else ()


@dataclass(frozen=True)
class CodeReplacement:
    """A deleted code, the code that replaces it, and the source that says so."""

    code: str
    replaced_by: str
    deleted: date | None
    source: str


@lru_cache(maxsize=1)
def shipped_replacements() -> dict[str, CodeReplacement]:
    """``data/code-replacements.csv``: deleted drug codes and their replacements."""
    data = resources.files("injection_cds.reference.data")
    text = data.joinpath(_REPLACEMENTS).read_text("utf-8")
    return {
        row["code"]: CodeReplacement(
            row["code"],
            row["replaced_by"],
            date.fromisoformat(row["deleted"]) if row["deleted"] else None,
            row["source"],
        )
        for row in csv.DictReader(text.splitlines())
    }


@lru_cache(maxsize=1)
def _shipped_choices() -> dict[str, CodeChoice]:
    text = resources.files("injection_cds.reference.data").joinpath(_CHOICES).read_text("utf-8")
    return {
        row["code"]: CodeChoice(row["code"], row["when"], row["source"], row["replaces"] or None)
        for row in csv.DictReader(text.splitlines())
    }


@lru_cache(maxsize=1)
def _shipped_catalog() -> DrugCatalog:
    data = resources.files("injection_cds.reference.data")
    text = data.joinpath(_SHIPPED_TABLE).read_text("utf-8")
    quarters = tuple(
        read_quarter(item.read_bytes())
        for item in sorted(data.iterdir(), key=lambda i: i.name)
        if item.name.startswith("cms-") and item.name.endswith(".json.gz")
    )
    return DrugCatalog.build(read_catalog_csv(text), quarters=quarters)


VACCINE_PRODUCT_CPT_RANGE = (90476, 90759)


COVID_VACCINE_PRODUCT_CPT_RANGE = (91300, 91399)  # SARS-CoV-2 vaccine products (913xx)


def is_vaccine_product_code(code: str) -> bool:
    """A CPT vaccine or toxoid product code (90476-90759, or a COVID-19 product 913xx)."""
    return code.isdigit() and any(
        low <= int(code) <= high
        for low, high in (VACCINE_PRODUCT_CPT_RANGE, COVID_VACCINE_PRODUCT_CPT_RANGE)
    )


def is_vaccine(drug: Drug | None, catalog: DrugCatalog) -> bool:
    """A vaccine or toxoid: a CVX code, a CPT product code 90476-90759, or the catalog says so."""
    if drug is None:
        return False
    if drug.cvx or any(is_vaccine_product_code(code) for code in drug.cpt_codes):
        return True
    entry = catalog.identify(drug)
    if entry is not None and (
        entry.vaccine or (entry.hcpcs is not None and is_vaccine_product_code(entry.hcpcs))
    ):
        return True  # by NDC alone: the crosswalk maps it to a vaccine product code
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
