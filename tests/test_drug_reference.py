"""The CMS drug reference: build from the real files, identification, units, NDC quantities.

Tests that need the real CMS files read them from ``../shared/data/cms`` and skip when the
folder is not there.
"""

from __future__ import annotations

import gzip
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from injection_cds.core import codes
from injection_cds.core.billing.drug_lines import drug_line
from injection_cds.core.context import RuleContext
from injection_cds.core.extract import visit_facts
from injection_cds.core.extraction.index import ResourceIndex
from injection_cds.core.facts import Coding, Concept, Drug, Quantity
from injection_cds.core.units import billing_units
from injection_cds.reference import build
from injection_cds.reference.catalog import DrugCatalog
from injection_cds.reference.dosage import EACH, EACH_UNIT, PER, UP_TO, parse_dosage
from injection_cds.reference.names import NameIndex

ROOT = Path(__file__).resolve().parents[1]
CMS = ROOT.parent / "shared" / "data" / "cms"
SHIPPED = "cms-2026q1.json.gz"
MIMIC = "http://mimic.mit.edu/fhir/mimic/CodeSystem/mimic-medication"
MIMIC_NDC = f"{MIMIC}-ndc"
UCUM = codes.UCUM


def _cms() -> Path:
    if not (CMS / "asp-crosswalk-2026q1.csv").exists():
        pytest.skip(f"{CMS} is not here (the shared folder is outside the repo)")
    return CMS


# --- dosage descriptors ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "amount", "unit", "kind"),
    [
        ("250 MG", "250", "mg", PER),
        ("UP TO 150 MG", "150", "mg", UP_TO),
        ("UP TO 1000 CC", "1000", "mL", UP_TO),
        ("1000 CC", "1000", "mL", PER),
        ("100,000 UNITS", "100000", "[iU]", PER),
        ("1 MU", "1000000", "[iU]", PER),
        ("150 IU", "150", "[iU]", PER),
        ("1 USP UNIT", "1", "[USP'U]", PER),
        ("1000 MCG", "1000", "mcg", PER),
        ("1.125 gm", "1.125", "g", PER),
        ("2.5 MG/0.5 MG", "2.5", "mg", PER),
        ("300 MCG (1500 IU)", "300", "mcg", PER),
        ("PER FACTOR VIII IU", "1", "[iU]", PER),
        ("1 EA", "1", EACH_UNIT, EACH),
        ("1 EACH", "1", EACH_UNIT, EACH),
        ("PER VIAL", "1", EACH_UNIT, EACH),
        ("Per Therapeutic Dose", "1", EACH_UNIT, EACH),
        ("UP TO 600 million CAR-positive viable T cells", "1", EACH_UNIT, EACH),
    ],
)
def test_dosage_descriptors(text: str, amount: str, unit: str, kind: str) -> None:
    parsed = parse_dosage(text)
    assert parsed is not None
    assert (parsed.amount, parsed.unit, parsed.kind) == (Decimal(amount), unit, kind)


def test_every_dosage_of_the_real_files_parses() -> None:
    doc = build.read_files([_cms()])
    unparsed = [(code, row[1]) for code, row in doc["codes"].items() if not row[2]]
    assert not unparsed, unparsed


# --- the shipped build -----------------------------------------------------------------------
def test_the_shipped_reference_is_what_the_files_build() -> None:
    rebuilt = build.read_files([_cms()])
    assert build.output_name(rebuilt) == SHIPPED
    shipped = resources.files("injection_cds.reference.data").joinpath(SHIPPED).read_bytes()
    # byte for byte, compared decompressed: the JSON is the product (gzip's own bytes may
    # differ between zlib builds); the gzip header is checked to carry no time.
    assert gzip.decompress(shipped) == gzip.decompress(build.encode(rebuilt))
    assert shipped[4:8] == b"\x00\x00\x00\x00"


def test_cpt_products_keep_their_number_and_system_and_no_ama_text() -> None:
    catalog = DrugCatalog.shipped()
    assert catalog.quarter is not None
    hep_b_ig = catalog.quarter.codes["90371"]
    assert hep_b_ig.system == codes.CPT and hep_b_ig.description == ""
    assert catalog.quarter.codes["J1650"].system == codes.HCPCS
    assert catalog.quarter.codes["J1650"].description == "Inj enoxaparin sodium"


def test_payment_limit_and_status_indicator_come_with_the_code() -> None:
    entry = DrugCatalog.shipped().by_hcpcs("J1650")
    assert entry is not None
    assert entry.payment_limit == Decimal("0.533") and entry.status_indicator == "N"
    assert entry.quarter == "2026Q1"


# --- identification --------------------------------------------------------------------------
def _drug(*codings: Coding, text: str | None = None, order: Drug | None = None) -> Drug:
    return Drug(concept=Concept(codings, text), order=order)


def test_a_local_code_with_an_ndc_shape_identifies_the_drug() -> None:
    entry = DrugCatalog.shipped().identify(_drug(Coding(MIMIC_NDC, "00075062040")))
    assert entry is not None and entry.hcpcs == "J1650" and entry.found_by == "ndc"
    assert entry.package is not None and entry.package.units_per_item == 4


def test_the_orders_medication_ndc_identifies_the_drug() -> None:
    order = _drug(Coding(MIMIC_NDC, "00075062040"))
    entry = DrugCatalog.shipped().identify(_drug(text="ENOX40I", order=order))
    assert entry is not None and entry.hcpcs == "J1650" and entry.found_by == "order-ndc"


def test_the_product_ndc_identifies_a_package_the_crosswalk_does_not_list() -> None:
    # 00075-0620-40 is listed; an unlisted package of the same product is still Lovenox.
    entry = DrugCatalog.shipped().identify(_drug(Coding(codes.NDC, "00075-0620-99")))
    assert entry is not None and entry.hcpcs == "J1650" and entry.found_by == "product-ndc"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("cisplatin 50 MG Injection", "J9060"),
        ("paclitaxel 100 MG Injection", "J9267"),
        ("Adcetris 50 mg vial", "J9042"),
        ("Lorazepam 2 mg/mL", "J2060"),
        ("ondansetron 2 mg/mL injection", "J2405"),
        ("Bicillin L-A", "J0561"),
        ("Vivitrol", "J2315"),
        ("Prolia", "J0897"),
        ("Methylnaltrexone", "J2212"),  # an Addendum B code with no ASP row
    ],
)
def test_names_in_text_find_the_specific_code(text: str, code: str) -> None:
    entry = DrugCatalog.shipped().identify(_drug(text=text))
    assert entry is not None and entry.hcpcs == code, entry


def test_a_flush_is_not_a_drug_line() -> None:
    assert DrugCatalog.shipped().identify(_drug(text="Sodium Chloride 0.9% Flush")) is None


def test_name_index_prefers_the_salt_charted() -> None:
    index = NameIndex.build(
        [("Methylprednisolone Acetate", "J1010"), ("Methylprednisolone Sodium Succinate", "J2920")]
    )
    assert index.find("methylprednisolone acetate 40 mg") == ("J1010",)
    assert index.find("methylprednisolone 40 mg") == ("J1010", "J2920")


def test_an_ndc_with_two_codes_is_ambiguous_never_the_last_row() -> None:
    catalog = DrugCatalog.shipped()
    assert catalog.quarter is not None
    ndc = next(n for n, rows in catalog.quarter.packages.items() if len(rows) == 2)
    entry = catalog.identify(_drug(Coding(codes.NDC, ndc)))
    assert entry is not None and entry.ambiguous
    both = {entry.hcpcs, *entry.alternatives}
    assert both == {p.code for p in catalog.quarter.packages[ndc]}


def _esa_ndc(catalog: DrugCatalog) -> str:
    assert catalog.quarter is not None
    return next(
        n
        for n, rows in catalog.quarter.packages.items()
        if {p.code for p in rows} == {"J0881", "J0882"}
    )


@pytest.mark.parametrize(("on_dialysis", "code"), [(True, "J0882"), (False, "J0881")])
def test_esa_pairs_are_decided_by_esrd_on_dialysis(on_dialysis: bool, code: str) -> None:
    catalog = DrugCatalog.shipped()
    entry = catalog.identify(_drug(Coding(codes.NDC, _esa_ndc(catalog))))
    assert entry is not None and entry.ambiguous
    decided = catalog.decide(entry, esrd_on_dialysis=on_dialysis, route=None)
    assert decided.hcpcs == code and not decided.ambiguous
    assert decided.decided_by is not None and decided.decided_by.source


def test_reference_knows_an_ndc_only_drug_is_injected() -> None:
    catalog = DrugCatalog.shipped()
    assert catalog.knows_injectable(_drug(Coding(MIMIC_NDC, "00075062040")))
    assert not catalog.knows_injectable(_drug(Coding(MIMIC_NDC, "00000000000")))


# --- units and NDC quantities from the package -----------------------------------------------
def _visit_line(medication_codings: list[dict[str, str]], dose: dict[str, Any]) -> Any:
    """The drug line of one SC administration charted with this Medication and dose."""
    administration = {
        "resourceType": "MedicationAdministration",
        "id": "ma-1",
        "status": "completed",
        "contained": [
            {"resourceType": "Medication", "id": "m", "code": {"coding": medication_codings}}
        ],
        "medicationReference": {"reference": "#m"},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": "2026-02-03T10:00:00Z",
        "dosage": {
            "route": {"coding": [{"system": codes.SNOMED, "code": "34206005"}]},
            "dose": dose,
        },
    }
    visit = visit_facts(
        "encounter-discharge", ResourceIndex([administration]), administrations=[administration]
    )
    return drug_line(visit.administrations[0], visit, RuleContext())


def test_enoxaparin_syringe_bills_units_and_ml_from_the_package() -> None:
    line = _visit_line(
        [{"system": codes.NDC, "code": "00075-0620-40"}],
        {"value": 40, "unit": "mg", "system": codes.UCUM, "code": "mg"},
    )
    assert (line.code, line.units) == ("J1650", 4)
    assert (line.ndc_unit, line.ndc_quantity) == ("ML", Decimal("0.4"))


def test_a_dose_in_ml_converts_with_the_package_concentration() -> None:
    line = _visit_line(
        [{"system": codes.NDC, "code": "00075-0620-40"}],
        {"value": 0.8, "unit": "mL", "system": codes.UCUM, "code": "mL"},
    )
    assert (line.code, line.units) == ("J1650", 8)  # 0.8 mL of 100 mg/mL = 80 mg


def test_every_ndc_of_the_shipped_file_bills_its_code_times_k() -> None:
    """Charting each package NDC with k × its descriptor amount yields the code × k."""
    catalog = DrugCatalog.shipped()
    assert catalog.quarter is not None
    k = 3
    failures: list[str] = []
    for ndc11, rows in catalog.quarter.packages.items():
        for package in rows:
            facts = catalog.quarter.codes[package.code]
            assert facts.dosage is not None, package.code
            if facts.dosage.kind == EACH:
                dose = Quantity(Decimal(k), EACH_UNIT, EACH_UNIT)
            else:
                amount = facts.dosage.amount * k
                dose = Quantity(amount, facts.dosage.unit, facts.dosage.unit)
            entry = catalog.identify(_drug(Coding(codes.NDC, ndc11)))
            if entry is None or package.code not in (entry.hcpcs, *entry.alternatives):
                failures.append(f"{ndc11}: {package.code} not found ({entry and entry.hcpcs})")
                continue
            chosen = catalog.by_hcpcs(package.code) if entry.hcpcs != package.code else entry
            assert chosen is not None
            units = billing_units(dose, chosen)
            if units.units != k:
                failures.append(f"{ndc11} {package.code} {facts.dosage_text}: {units}")
    assert not failures, f"{len(failures)} NDCs fail:\n" + "\n".join(failures[:50])


def test_the_build_command_writes_the_shipped_file(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from injection_cds.cli.main import main

    result = CliRunner().invoke(main, ["reference", "build", str(_cms()), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    shipped = resources.files("injection_cds.reference.data").joinpath(SHIPPED).read_bytes()
    assert gzip.decompress((tmp_path / SHIPPED).read_bytes()) == gzip.decompress(shipped)


def test_the_build_command_refuses_an_incomplete_set(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from injection_cds.cli.main import main

    only = tmp_path / "in"
    only.mkdir()
    (only / "x.csv").write_bytes((_cms() / "asp-pricing-2026q1.csv").read_bytes())
    result = CliRunner().invoke(main, ["reference", "build", str(only), "--out", str(tmp_path)])
    assert result.exit_code != 0 and "missing CMS file(s): crosswalk, opps" in result.output


# --- the hooks: the encounter's orders prefetched, an NDC-only drug, the order standing in ---
def _mimic_style_request() -> dict[str, Any]:
    """A charting call whose administration names only a formulary code, with no route or
    dose: the NDC, route and dose are on the order and its Medication (as MIMIC charts)."""
    from injection_cds.devtools.synthetic import hook_request

    body = hook_request("injection-charting", seed=11, n_administrations=1)
    bundle = body["context"]["medicationAdministrations"]
    administration = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    )
    for key in ("medicationReference", "dosage"):
        administration.pop(key, None)
    administration["medicationCodeableConcept"] = {
        "coding": [{"system": f"{MIMIC}-formulary-drug-cd", "code": "ENOX40I"}]
    }
    administration["request"] = {"reference": "MedicationRequest/order-1"}
    bundle["entry"] = [{"resource": administration}]
    order = {
        "resourceType": "MedicationRequest",
        "id": "order-1",
        "status": "completed",
        "intent": "order",
        "subject": administration["subject"],
        "medicationReference": {"reference": "Medication/med-ndc"},
        "dosageInstruction": [
            {
                "route": {"coding": [{"system": codes.SNOMED, "code": "34206005"}]},
                "doseAndRate": [
                    {"doseQuantity": {"value": 40, "unit": "mg", "system": UCUM, "code": "mg"}}
                ],
            }
        ],
    }
    medication = {
        "resourceType": "Medication",
        "id": "med-ndc",
        "code": {"coding": [{"system": MIMIC_NDC, "code": "00075062040"}]},
    }
    encounter = body["prefetch"]["encounter"]
    encounter["class"] = {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": "AMB",
    }
    encounter.pop("location", None)  # an office visit (place of service 11)
    body["prefetch"]["medicationRequests"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": order, "search": {"mode": "match"}},
            {"resource": medication, "search": {"mode": "include"}},
        ],
    }
    return body


def test_services_prefetch_the_encounters_orders_with_their_medications() -> None:
    from injection_cds.protocol.services import load_services

    for service in ("injection-charting", "injection-discharge"):
        keys = {k.key: k for k in load_services()[service].prefetch}
        query = keys["medicationRequests"].query
        assert query.startswith("MedicationRequest?encounter={{context.encounterId}}")
        assert "_include=MedicationRequest:medication" in query


def test_the_orders_ndc_route_and_dose_bill_the_drug_through_the_hook() -> None:
    from injection_cds.protocol.pipeline import call_service

    result = call_service(
        "injection-charting", _mimic_style_request(), ctx=RuleContext(), base_url="https://x"
    )
    by_rule = {f.rule: f for f in result.findings}
    lines = by_rule["BIL001"].data["lines"]
    drug = next(line for line in lines if line["code"] != "96372")
    assert (drug["code"], drug["units"], drug["ndc"]) == ("J1650", 4, "00075062040")
    assert (drug["ndcUnit"], drug["ndcQuantity"]) == ("ML", 0.4)
    assert "BIL011" not in by_rule
    assert "DOC001" in by_rule  # the administration itself still lacks its route


def test_an_ndc_only_drug_without_route_is_an_injection_and_gets_its_findings() -> None:
    from injection_cds.protocol.pipeline import call_service

    body = _mimic_style_request()
    administration = body["context"]["medicationAdministrations"]["entry"][0]["resource"]
    administration.pop("request")
    administration["medicationCodeableConcept"] = {
        "coding": [{"system": MIMIC_NDC, "code": "00075062040"}]
    }
    result = call_service("injection-charting", body, ctx=RuleContext(), base_url="https://x")
    assert "DOC001" in {f.rule for f in result.findings}


# --- what it pays ------------------------------------------------------------------------------
def _medicare_line(ndc: str, dose_mg: int, date: str = "2026-02-03T10:00:00Z") -> Any:
    administration = {
        "resourceType": "MedicationAdministration",
        "id": "ma-1",
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": codes.NDC, "code": ndc}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": date,
        "dosage": {
            "route": {"coding": [{"system": codes.SNOMED, "code": "34206005"}]},
            "dose": {"value": dose_mg, "unit": "mg", "system": UCUM, "code": "mg"},
        },
    }
    coverage = {
        "resourceType": "Coverage",
        "id": "cov",
        "status": "active",
        "type": {"coding": [{"system": codes.PAYMENT_TYPOLOGY, "code": "1"}]},
        "beneficiary": {"reference": "Patient/p"},
        "payor": [{"reference": "Organization/medicare"}],
    }
    visit = visit_facts(
        "encounter-discharge",
        ResourceIndex([administration, coverage]),
        administrations=[administration],
    )
    return visit, drug_line(visit.administrations[0], visit, RuleContext())


def test_medicare_line_names_its_part_b_limit_and_file() -> None:
    visit, line = _medicare_line("00075-0620-40", 40)
    assert visit.payer.payer_class == codes.PAYER_CLASS_MEDICARE
    assert (line.code, line.units) == ("J1650", 4)
    assert line.payment == (
        "Part B limit $2.13 = 4 × $0.533 (ASP + 6 %, January 2026 file asp-pricing-2026q1.csv)"
    )
    assert line.reference == "CMS 2026Q1 (asp-crosswalk-2026q1.csv)"


# --- another quarter, loaded without a release ---------------------------------------------
JANUARY = "January 1, 2026 through March 31, 2026"
OCTOBER = "October 1, 2025 through December 31, 2025"
ENOXAPARIN = "J1650,Inj enoxaparin sodium,10 MG,"


def _older_quarter(folder: Path) -> Path:
    """The real files re-dated as October 2025 in last year's layout (``_2025_CODE``, another
    preamble line), with J1650's limit changed, as a newly downloaded quarter would differ."""
    folder.mkdir()
    crosswalk = (_cms() / "asp-crosswalk-2026q1.csv").read_bytes().decode("latin-1")
    crosswalk = (
        crosswalk.replace("January 2026 ASP", "October 2025 ASP")
        .replace(JANUARY, OCTOBER)
        .replace("_2026_CODE", "_2025_CODE")
    )
    crosswalk = "Extra preamble line\n" + crosswalk
    (folder / "crosswalk.csv").write_bytes(crosswalk.encode("latin-1"))
    pricing = (_cms() / "asp-pricing-2026q1.csv").read_bytes().decode("latin-1")
    pricing = pricing.replace(JANUARY, OCTOBER).replace(ENOXAPARIN + "0.533", ENOXAPARIN + "0.611")
    (folder / "pricing.csv").write_bytes(pricing.encode("latin-1"))
    (folder / "addendum-b.csv").write_bytes((_cms() / "addendum-b-2025q4.csv").read_bytes())
    return folder


def test_loading_another_quarter_is_used_for_its_dates_of_service(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from injection_cds.cli.main import main
    from injection_cds.reference.settings import rule_context_from_config

    files = _older_quarter(tmp_path / "download")
    config = tmp_path / "config.toml"
    config.write_text(f'instance_dir = "{tmp_path / "instance"}"\n')
    result = CliRunner().invoke(main, ["reference", "load", str(files), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "instance" / "reference" / "cms-2025q4.json.gz").exists()
    catalog = rule_context_from_config({"instance_dir": str(tmp_path / "instance")}).catalog
    assert [q.label for q in catalog.quarters] == ["2025Q4", "2026Q1"]
    older = catalog.at(date(2025, 11, 15)).by_hcpcs("J1650")
    newer = catalog.at(date(2026, 2, 3)).by_hcpcs("J1650")
    assert older is not None and newer is not None
    assert (older.quarter, older.payment_limit) == ("2025Q4", Decimal("0.611"))
    assert (newer.quarter, newer.payment_limit) == ("2026Q1", Decimal("0.533"))
    shown = CliRunner().invoke(main, ["reference", "show", "--config", str(config)])
    assert "2025Q4: 2025-10-01 to 2025-12-31" in shown.output


def test_the_billing_line_says_the_quarter_of_its_date_of_service(tmp_path: Path) -> None:
    from injection_cds.reference.build import encode, read_files
    from injection_cds.reference.drugref import read_quarter

    older = read_quarter(encode(read_files([_older_quarter(tmp_path / "download")])))
    ctx = RuleContext(catalog=DrugCatalog.shipped().with_quarters((older,)))
    visit, _ = _medicare_line("00075-0620-40", 40, "2025-11-15T10:00:00Z")
    line = drug_line(visit.administrations[0], visit, ctx)
    assert line.reference == "CMS 2025Q4 (crosswalk.csv)"
    assert line.payment is not None and "$0.611" in line.payment and "October 2025" in line.payment


# --- codes valid on the date of service (BIL015) ---------------------------------------------
def test_a_deleted_code_on_a_charge_item_is_flagged_with_its_replacement() -> None:
    from injection_cds.protocol.pipeline import call_service

    body = _mimic_style_request()
    item = {
        "resourceType": "ChargeItem",
        "id": "ci-1",
        "status": "billable",
        "code": {"coding": [{"system": codes.HCPCS, "code": "J1040"}]},
        "subject": {"reference": f"Patient/{body['context']['patientId']}"},
        "context": {"reference": f"Encounter/{body['context']['encounterId']}"},
    }
    body["prefetch"]["chargeItems"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": item, "search": {"mode": "match"}}],
    }
    result = call_service("injection-charting", body, ctx=RuleContext(), base_url="https://x")
    flagged = [f for f in result.findings if f.rule == "BIL015"]
    assert len(flagged) == 1 and flagged[0].element == "ChargeItem.code"
    assert flagged[0].data == {"code": "J1040", "quarter": "2026Q1", "replacedBy": "J1010"}
    assert "deleted on 2024-04-01: bill J1010" in flagged[0].message


def test_a_code_the_quarter_lists_is_not_flagged() -> None:
    from injection_cds.protocol.pipeline import call_service

    body = _mimic_style_request()
    administration = body["context"]["medicationAdministrations"]["entry"][0]["resource"]
    administration["medicationCodeableConcept"] = {
        "coding": [{"system": codes.HCPCS, "code": code} for code in ("J1650", "J3490")]
    }
    result = call_service("injection-charting", body, ctx=RuleContext(), base_url="https://x")
    assert "BIL015" not in {f.rule for f in result.findings}


def test_billing_rule_pages_say_which_quarter_the_service_reads(tmp_path: Path) -> None:
    from injection_cds.web.factory import create_app

    app = create_app({"instance_dir": str(tmp_path)})
    page = app.test_client().get("/rules/BIL001").get_data(as_text=True)
    assert "CMS 2026Q1 (2026-01-01 to 2026-03-31), the newest" in page
    assert "asp-pricing-2026q1.csv, effective 2026-01-01" in page
    documentation = app.test_client().get("/rules/DOC001").get_data(as_text=True)
    assert "CMS 2026Q1" not in documentation


def test_a_hospital_outpatient_line_names_its_opps_status_and_file() -> None:
    from injection_cds.core.context import RuleSettings

    administration = {
        "resourceType": "MedicationAdministration",
        "id": "ma-1",
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": codes.NDC, "code": "00075-0620-40"}]},
        "subject": {"reference": "Patient/p"},
        "context": {"reference": "Encounter/e"},
        "effectiveDateTime": "2026-02-03T10:00:00Z",
        "dosage": {
            "route": {"coding": [{"system": codes.SNOMED, "code": "34206005"}]},
            "dose": {"value": 40, "unit": "mg", "system": UCUM, "code": "mg"},
        },
    }
    encounter = {
        "resourceType": "Encounter",
        "id": "e",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/p"},
    }
    visit = visit_facts(
        "encounter-discharge",
        ResourceIndex([administration, encounter]),
        administrations=[administration],
        encounter_id="e",
    )
    assert visit.encounter is not None
    pos = visit.encounter.place_of_service or ""
    ctx = RuleContext(settings=RuleSettings(facility_places_of_service=frozenset({pos})))
    line = drug_line(visit.administrations[0], visit, ctx)
    assert line.code == "J1650"
    assert line.payment == (
        "OPPS status N (packaged into the visit's services, no separate payment; "
        "addendum-b-2025q4.csv)"
    )
