from __future__ import annotations

import csv
import re
from importlib import resources

from injection_cds.core import codes
from injection_cds.core.facts import Coding, Concept, Drug
from injection_cds.reference.catalog import DrugCatalog, read_catalog_csv

TEXT = (
    resources.files("injection_cds.reference.data").joinpath("injectables.csv").read_text("utf-8")
)
HCPCS = re.compile(r"^[A-Z]\d{4}$")
KINDS = {
    codes.VACCINE_INFLUENZA,
    codes.VACCINE_PNEUMOCOCCAL,
    codes.VACCINE_HEPATITIS_B,
    codes.VACCINE_COVID19,
    codes.VACCINE_OTHER,
    codes.VACCINE_TETANUS,
    codes.VACCINE_RABIES,
    codes.VACCINE_ZOSTER,
    codes.VACCINE_RSV,
}


def test_every_row_is_well_formed() -> None:
    rows = list(csv.DictReader(TEXT.splitlines()))
    entries = read_catalog_csv(TEXT)
    assert len(rows) == len(entries)
    for row, entry in zip(rows, entries, strict=True):
        assert entry.name and entry.source, row
        assert all(len(r) == len(rows[0]) for r in [row])
        if entry.vaccine:
            assert entry.cvx_codes and entry.vaccine_kind in KINDS and entry.components >= 1
            assert all(c.isdigit() for c in entry.cvx_codes)
            assert entry.hcpcs is None
        elif entry.allergen:
            assert entry.hcpcs is None
        else:
            assert entry.hcpcs and HCPCS.match(entry.hcpcs), row
            assert entry.amount is not None and entry.amount > 0, row
            assert entry.unit in {"mg", "mcg", "[iU]", "[USP'U]", "mL", "g"}, row
        assert all(code.isdigit() for code in entry.rxnorm_ingredients), row


def test_the_thirteen_drugs_of_the_rules_are_shipped() -> None:
    catalog = DrugCatalog.shipped()
    for code in (
        "J3420",
        "J0696",
        "J1100",
        "J1071",
        "J1050",
        "J1885",
        "J2550",
        "J1010",
        "J3301",
        "J0171",
        "J1815",
        "J2790",
        "J0725",
    ):
        assert catalog.by_hcpcs(code) is not None, code


def test_no_code_is_shipped_twice() -> None:
    entries = read_catalog_csv(TEXT)
    hcpcs = [e.hcpcs for e in entries if e.hcpcs]
    cvx = [c for e in entries for c in e.cvx_codes]
    assert len(hcpcs) == len(set(hcpcs)) and len(cvx) == len(set(cvx))


def _drug(*codings: Coding, text: str | None = None) -> Drug:
    return Drug(concept=Concept(codings, text))


def test_identify_by_cvx_rxnorm_and_name() -> None:
    catalog = DrugCatalog.shipped()
    flu = catalog.identify(_drug(Coding(codes.CVX, "158")))
    assert flu is not None and flu.vaccine_kind == codes.VACCINE_INFLUENZA
    hep_b = catalog.identify(_drug(Coding(codes.CVX, "8")))
    assert hep_b is not None and hep_b.vaccine_kind == codes.VACCINE_HEPATITIS_B
    cef = catalog.identify(_drug(Coding(codes.RXNORM, "2193")))
    assert cef is not None and cef.hcpcs == "J0696"
    hib = catalog.identify(_drug(text="haemophilus influenzae type b vaccine"))
    assert hib is None or hib.vaccine_kind != codes.VACCINE_INFLUENZA


def test_crosswalk_wins_over_name() -> None:
    catalog = DrugCatalog.shipped().with_crosswalk({"00409475503": "J2405"})
    entry = catalog.identify(_drug(text="ondansetron injection"), "00409475503")
    assert entry is not None and entry.hcpcs == "J2405"


def test_vaccine_product_rows_are_sourced_and_well_formed() -> None:
    from injection_cds.reference.coding_tables import shipped_vaccine_products

    table = shipped_vaccine_products()
    assert len(table.by_cvx) >= 40
    for row in table.by_cvx.values():
        assert row.cvx.isdigit() and row.source and row.vaccine, row
        assert re.fullmatch(r"9\d{4}", row.cpt) and row.kind in KINDS and row.components >= 1, row
    assert table.for_cvx("8") is table.for_cvx("08")  # CVX compares without leading zeros
    assert table.for_cvx("03") is not None and table.for_cvx("03").components == 3  # MMR


def test_complex_drug_rows_are_sourced() -> None:
    from injection_cds.reference.coding_tables import shipped_complex_drugs

    rows = shipped_complex_drugs().rows
    assert {row.kind for row in rows} == {"hormonal", "biologic"}
    assert all(HCPCS.match(row.hcpcs) and row.source and row.match_names for row in rows)
