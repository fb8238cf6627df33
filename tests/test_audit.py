"""Batch audit (issue 6): reading, grouping, the rules' code path, outputs, real data."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from injection_cds.audit import run_audit
from injection_cds.audit.progress import Progress, bounded_map
from injection_cds.audit.reader import Skipped, read_chunks
from injection_cds.audit.store import classify, reference_key
from injection_cds.cli.main import main as cli_main

EXTERNAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "external"
SNOMED = "http://snomed.info/sct"
PATIENT_NAME = "Zebedee Quartermaine"


def patient(pid: str = "p1") -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "name": [{"family": "Quartermaine", "given": ["Zebedee"], "text": PATIENT_NAME}],
        "birthDate": "1970-05-01",
    }


def encounter(
    eid: str, *, part_of: str | None = None, location: str = "Infusion clinic"
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": eid,
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/p1", "display": PATIENT_NAME},
        "location": [{"location": {"display": location}}],
    }
    if part_of:
        resource["partOf"] = {"reference": f"Encounter/{part_of}"}
    return resource


def condition(cid: str, eid: str, code: str = "E11.9") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": f"Encounter/{eid}"},
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]},
    }


def administration(aid: str, eid: str | None, **dosage: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": aid,
        "status": "completed",
        "medicationCodeableConcept": {"text": "ceftriaxone 1 g injection"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-03-02T10:15:00Z",
    }
    if eid is not None:
        resource["context"] = {"reference": f"Encounter/{eid}"}
    if dosage:
        resource["dosage"] = dosage
    return resource


IM = {"coding": [{"system": SNOMED, "code": "78421000", "display": "Intramuscular route"}]}


def write_ndjson(path: Path, resources: list[Any], *, gz: bool = False) -> Path:
    data = b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in resources)
    if gz:
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def small_export(tmp_path: Path) -> Path:
    src = tmp_path / "export"
    src.mkdir()
    write_ndjson(
        src / "MedicationAdministration.ndjson.gz",
        [
            administration("a1", "e1"),
            administration("a2", "icu1", route=IM),
            b"{not json",
            administration("a3", "e1"),
            {"resourceType": "MedicationAdministration", "id": "bad", "status": 7},
            administration("a4", None),
        ],
        gz=True,
    )
    write_ndjson(src / "Encounter.ndjson", [encounter("e1"), encounter("icu1", part_of="e1")])
    write_ndjson(src / "Condition.ndjson", [condition("c1", "e1")])
    write_ndjson(src / "Patient.ndjson", [patient()])
    return src


def urn_bundle(*more: dict[str, Any]) -> dict[str, Any]:
    """A collection Bundle: encounter e9, and administration a9 pointing at it by urn:uuid."""
    admin = administration("a9", None, route=IM)
    admin["context"] = {"reference": "urn:uuid:1111"}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:1111", "resource": encounter("e9")},
            {"fullUrl": "urn:uuid:2222", "resource": admin},
            *more,
        ],
    }


def audit(tmp_path: Path, *inputs: Path, workers: int = 1) -> tuple[Any, dict[str, Any]]:
    out = tmp_path / "out"
    result = run_audit(list(inputs), out, workers=workers, progress=False, stderr=io.StringIO())
    findings = json.loads((out / "findings.json").read_text("utf-8"))
    return result, findings


# --- reading --------------------------------------------------------------------------------
def test_bad_records_are_reported_with_file_and_line_and_skipped(tmp_path: Path) -> None:
    stderr = io.StringIO()
    src = small_export(tmp_path)
    result = run_audit([src], tmp_path / "out", workers=1, progress=False, stderr=stderr)
    assert result.totals.skipped_count == 2
    lines = {(s.line, s.reason.split(":")[0]) for s in result.totals.skipped}
    assert lines == {("3", "invalid JSON"), ("5", "invalid FHIR")}
    assert all(s.file.endswith("MedicationAdministration.ndjson.gz") for s in result.totals.skipped)
    assert "MedicationAdministration.ndjson.gz:3: invalid JSON" in stderr.getvalue()
    assert result.totals.administrations == 4


def test_bundle_entries_and_urn_references(tmp_path: Path) -> None:
    bundle = urn_bundle(
        {"fullUrl": "urn:uuid:3333", "resource": {"resourceType": "Nonsense", "id": "x"}}
    )
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    skipped: list[Skipped] = []
    chunks = list(read_chunks(path, skipped.append))
    records = [r for c in chunks for r in c.records]
    assert [line for line, _ in records] == ["entry[0]", "entry[1]", "entry[2]"]
    assert orjson.loads(records[1][1])["context"]["reference"] == "Encounter/e9"
    result, findings = audit(tmp_path, path)
    assert result.totals.encounters == 1
    assert findings["summary"]["skippedRecords"] == 1
    assert findings["skipped"][0]["line"] == "entry[2]"


def test_unreadable_json_document_is_skipped(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{")
    truncated = tmp_path / "MedicationAdministration.ndjson.gz"
    truncated.write_bytes(gzip.compress(orjson.dumps(administration("z", "e")) + b"\n")[:-10])
    result, findings = audit(tmp_path, bad, truncated)
    assert findings["summary"]["skippedRecords"] == 2
    assert {s["file"] for s in findings["skipped"]} == {str(bad), str(truncated)}


def test_references_are_normalised() -> None:
    assert reference_key({"reference": "https://ehr/fhir/Encounter/7/_history/2"}) == "Encounter/7"
    assert reference_key({"reference": "#med1"}) is None
    assert reference_key({"reference": "Practitioner?identifier=x|1"}) is None
    row = classify(administration("a", None), "f", "9", b"{}")
    assert row is not None and row[2] == "~f:9"


# --- grouping and the rules -----------------------------------------------------------------
def test_groups_by_encounter_and_reaches_parent_diagnoses(tmp_path: Path) -> None:
    src = small_export(tmp_path)
    result, findings = audit(tmp_path, src)
    summary = findings["summary"]
    assert summary["encounters"] == 2
    assert summary["administrations"] == 4
    by_resource: dict[str, set[str]] = {}
    for finding in findings["findings"]:
        by_resource.setdefault(finding["resource"], set()).add(finding["rule"])
    # a2 (ICU stay, partOf e1): its diagnosis is on the hospital stay, so no DOC008.
    assert "DOC008" not in by_resource["MedicationAdministration/a2"]
    assert "DOC001" in by_resource["MedicationAdministration/a1"]  # no route at all
    assert "DOC001" not in by_resource["MedicationAdministration/a2"]
    # the administration with no encounter is audited on its own
    assert "MedicationAdministration/a4" in by_resource
    assert {f["department"] for f in findings["findings"]} >= {"Infusion clinic", "(no encounter)"}


def test_same_results_with_one_and_many_workers(tmp_path: Path) -> None:
    src = small_export(tmp_path)
    _, one = audit(tmp_path / "one", src, workers=1)
    _, many = audit(tmp_path / "many", src, workers=3)
    assert one["findings"] == many["findings"]
    assert one["summary"] == many["summary"]


def test_outputs_worklist_findings_and_no_phi(tmp_path: Path) -> None:
    src = small_export(tmp_path)
    result, findings = audit(tmp_path, src)
    out = tmp_path / "out"
    with (out / "worklist.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == findings["summary"]["findings"] == len(findings["findings"])
    assert set(rows[0]) >= {"encounter", "administration", "drug", "time", "rule", "severity"}
    assert all(row["how_to_fix"] for row in rows)
    assert {r["administration"] for r in rows} >= {"a1", "a2", "a3"}
    for name in ("worklist.csv", "findings.json", "report.html"):
        text = (out / name).read_text("utf-8")
        assert "Quartermaine" not in text and "Zebedee" not in text and "p1" not in text
    rate = findings["summary"]["documentationCompleteRate"]
    candidates = findings["summary"]["billableCandidates"]
    assert rate == round(findings["summary"]["documentationComplete"] / candidates, 4)


def test_report_is_self_contained(tmp_path: Path) -> None:
    src = small_export(tmp_path)
    audit(tmp_path, src)
    html = (tmp_path / "out" / "report.html").read_text("utf-8")
    assert "<svg" in html and 'data-chart="by-rule"' in html
    # nothing is loaded: no external stylesheet, script, image, font or import
    for remote in ("<link", "src=", "href=", "url(", "@import"):
        assert remote not in html, remote
    assert "default-src 'none'" in html  # and the page's CSP forbids it anyway


def test_cli_audit(tmp_path: Path) -> None:
    src = small_export(tmp_path)
    runner = CliRunner()
    outcome = runner.invoke(
        cli_main, ["audit", str(src), "--out", str(tmp_path / "cli"), "--workers", "1"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert "audited 4 administrations in 2 encounters" in outcome.output
    assert (tmp_path / "cli" / "report.html").exists()


# --- machinery ------------------------------------------------------------------------------
def test_bounded_map_keeps_order_without_a_pool() -> None:
    assert list(bounded_map(None, lambda x: x * 2, range(5), in_flight=2)) == [0, 2, 4, 6, 8]


def test_bounded_map_streams_with_a_pool() -> None:
    import multiprocessing

    consumed = 0

    def items() -> Any:
        nonlocal consumed
        for item in range(50):
            consumed += 1
            yield item

    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = bounded_map(pool, abs, items(), in_flight=3)
        first = next(results)
        assert first == 0 and consumed <= 4  # only the items in flight were read
        assert [first, *results] == list(range(50))


def test_progress_bar_only_when_enabled() -> None:
    quiet, loud = io.StringIO(), io.StringIO()
    for stream, enabled in ((quiet, False), (loud, True)):
        bar = Progress(stream, enabled)
        bar.start("audit", 100, "adm")
        bar.advance(50)
        bar.finish()
    assert quiet.getvalue() == ""
    assert "100%" in loud.getvalue() and "/s" in loud.getvalue() and "ETA" in loud.getvalue()


# --- the real data --------------------------------------------------------------------------
def _external() -> Path:
    if not (EXTERNAL / "mimic-iv-demo-fhir").is_dir():
        pytest.skip(f"external data not present at {EXTERNAL}")
    return EXTERNAL.resolve()


@pytest.fixture(scope="module")
def external_audit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = _external()
    out = tmp_path_factory.mktemp("external")
    run_audit([root], out, workers=2, progress=False, stderr=io.StringIO())
    findings: dict[str, Any] = json.loads((out / "findings.json").read_text("utf-8"))
    return findings


_FORMULARY = "http://mimic.mit.edu/fhir/mimic/CodeSystem/mimic-medication-formulary-drug-cd"


def _formulary_code(owner: dict[str, Any], medications: dict[str, Any]) -> str | None:
    medication = medications.get((owner.get("medicationReference") or {}).get("reference", ""))
    pairs = [
        (c.get("system"), c.get("code"))
        for c in (medication or {}).get("code", {}).get("coding", [])
    ]
    pairs += [(i.get("system"), i.get("value")) for i in (medication or {}).get("identifier", [])]
    pairs += [
        (c.get("system"), c.get("code"))
        for c in (owner.get("medicationCodeableConcept") or {}).get("coding", [])
    ]
    return next((code for system, code in pairs if system == _FORMULARY), None)


def _mimic_admins_by_order_route() -> tuple[dict[str, str], list[str]]:
    """The route of each administration's order when the order is for the same drug; and
    the administrations whose order names another drug (another formulary code)."""
    root = _external() / "mimic-iv-demo-fhir"
    medications = {}
    for line in (root / "Medication.ndjson").read_bytes().splitlines():
        medication = orjson.loads(line)
        medications[f"Medication/{medication['id']}"] = medication
    routes, ordered = {}, {}
    for line in (root / "MedicationRequest.ndjson").read_bytes().splitlines():
        request = orjson.loads(line)
        ordered[f"MedicationRequest/{request['id']}"] = _formulary_code(request, medications)
        for instruction in request.get("dosageInstruction") or ():
            for c in (instruction.get("route") or {}).get("coding") or ():
                routes[f"MedicationRequest/{request['id']}"] = c.get("code")
    by_admin, another_drug = {}, []
    for line in (root / "MedicationAdministration.ndjson").read_bytes().splitlines():
        admin = orjson.loads(line)
        reference = f"MedicationAdministration/{admin['id']}"
        order = (admin.get("request") or {}).get("reference", "")
        given, wanted = _formulary_code(admin, medications), ordered.get(order)
        if given and wanted and given != wanted:
            another_drug.append(reference)
        elif routes.get(order):
            by_admin[reference] = routes[order]
    return by_admin, another_drug


def _mimic_not_given_events() -> set[str]:
    """Administrations charted completed whose eMAR event says the dose was not given."""
    root = _external() / "mimic-iv-demo-fhir"
    found = set()
    for line in (root / "MedicationAdministration.ndjson").read_bytes().splitlines():
        admin = orjson.loads(line)
        method = (admin.get("dosage") or {}).get("method") or {}
        if any(c.get("code") in ("Not Given", "Flushed") for c in method.get("coding") or ()):
            found.add(f"MedicationAdministration/{admin['id']}")
    return found


def test_external_data_audits_without_a_crash(external_audit: dict[str, Any]) -> None:
    summary = external_audit["summary"]
    assert summary["skippedRecords"] == 0, external_audit["skipped"][:5]
    assert summary["administrations"] == 1772 + 139 + 14
    assert summary["billableCandidates"] > 0 and summary["findings"] > 0


def test_external_mimic_oral_gets_no_findings_and_sc_heparin_gets_doc001(
    external_audit: dict[str, Any],
) -> None:
    routes, another_drug = _mimic_admins_by_order_route()
    rules: dict[str, set[str]] = {}
    drugs: dict[str, str] = {}
    for finding in external_audit["findings"]:
        rules.setdefault(finding["resource"], set()).add(finding["rule"])
        drugs[finding["resource"]] = finding["drug"] or ""
    oral = [a for a, r in routes.items() if r in ("PO", "PO/NG", "ORAL", "NG", "SL")]
    assert oral and not [a for a in oral if a in rules]
    not_given = _mimic_not_given_events()
    subcutaneous = [a for a, r in routes.items() if r in ("SC", "SUBCUT") and a not in not_given]
    heparin = [a for a in subcutaneous if "heparin" in drugs.get(a, "").lower()]
    assert heparin, "expected MIMIC SC heparin administrations among the findings"
    assert all("DOC001" in rules[a] for a in subcutaneous)
    # A Bactrim DS tablet linked to a flu vaccine's IM order, oral cephalexin to SC heparin's:
    # an order for another drug lends no route, so these oral doses get no findings.
    assert another_drug and not [a for a in another_drug if a in rules]


def test_external_hl7_examples_not_completed_are_not_candidates(
    external_audit: dict[str, Any],
) -> None:
    flagged = {f["resource"] for f in external_audit["findings"] if f["rule"].startswith("DOC")}
    root = _external() / "hl7-fhir-r4-examples"
    for line in (root / "MedicationAdministration.ndjson").read_bytes().splitlines():
        admin = orjson.loads(line)
        if admin.get("status") in ("entered-in-error", "on-hold", "in-progress"):
            reference = f"MedicationAdministration/{admin['id']}"
            assert reference not in flagged or not {
                f["rule"]
                for f in external_audit["findings"]
                if f["resource"] == reference and f["rule"] in ("DOC002", "DOC003")
            }


# --- the pieces the Spark engine shares (no Spark needed) ----------------------------------
def _deep_export() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """An administration whose walk needs every hop: order -> its Medication -> an
    ingredient; ICU stay -> hospital stay -> its Condition; the patient only on the stay."""
    admin = administration("a1", "icu1", route=IM)
    del admin["subject"], admin["medicationCodeableConcept"]
    admin["medicationReference"] = {"reference": "Medication/mix-a"}
    admin["request"] = {"reference": "MedicationRequest/r1"}
    resources = [
        encounter("icu1", part_of="e1"),
        encounter("e1"),
        condition("c1", "e1"),
        patient(),
        {
            "resourceType": "Coverage",
            "id": "cov1",
            "status": "active",
            "beneficiary": {"reference": "Patient/p1"},
            "payor": [{"display": "Payer"}],
        },
        {
            "resourceType": "MedicationRequest",
            "id": "r1",
            "status": "active",
            "intent": "order",
            "subject": {"reference": "Patient/p1"},
            "medicationReference": {"reference": "Medication/mix-r"},
        },
        {
            "resourceType": "Medication",
            "id": "mix-a",
            "ingredient": [{"itemReference": {"reference": "Medication/ing-a"}}],
        },
        {
            "resourceType": "Medication",
            "id": "mix-r",
            "ingredient": [{"itemReference": {"reference": "Medication/ing-r"}}],
        },
        {"resourceType": "Medication", "id": "ing-a", "code": {"text": "ceftriaxone"}},
        {"resourceType": "Medication", "id": "ing-r", "code": {"text": "lidocaine"}},
    ]
    return [admin], {f"{r['resourceType']}/{r['id']}": r for r in resources}


def _gathered(
    administrations: list[dict[str, Any]], store: dict[str, dict[str, Any]], hops: int
) -> Any:
    """The Spark plan's gathering, in plain Python: follows and owner links, ``hops`` times."""
    from injection_cds.audit.grouping import MemorySource, follows

    links: dict[tuple[str, str], list[str]] = {}
    for key, resource in store.items():
        row = classify(resource, "f", "1", b"{}")
        for owner, kind in row[4] if row else ():
            links.setdefault((owner, kind), []).append(key)
    depth = {key: 0 for a in administrations for key in [*follows(a), "Encounter/icu1"]}
    frontier = set(depth)
    for hop in range(1, hops + 1):
        found = {k for key in frontier if key in store for k in follows(store[key])}
        found |= {k for (owner, _), keys in links.items() if owner in frontier for k in keys}
        frontier = found - set(depth)
        depth.update(dict.fromkeys(frontier, hop))
    reached = set(depth)
    expanded = {key for key, d in depth.items() if d < hops}
    held = {key: store[key] for key in reached if key in store}
    return MemorySource(held, links, reached, expanded)


class _Everything:
    def __init__(self, store: dict[str, dict[str, Any]]) -> None:
        self.store = store

    def get(self, key: str | None) -> Any:
        return self.store.get(key or "")

    def linked(self, owner: str, kind: str) -> list[Any]:
        found = []
        for resource in self.store.values():
            row = classify(resource, "f", "1", b"{}")
            if row and (owner, kind) in row[4]:
                found.append(resource)
        return found


def test_gathering_by_follows_reaches_what_the_walk_reads() -> None:
    from injection_cds.audit.grouping import HOPS, NotGathered, group_resources

    administrations, store = _deep_export()
    everything = group_resources(_Everything(store), "Encounter/icu1", administrations)
    assert {f"{r['resourceType']}/{r['id']}" for r in everything} >= {
        "Medication/ing-r",  # request -> its Medication -> ingredient: two hops
        "Condition/c1",  # ICU stay -> hospital stay -> its Condition: two hops
        "Coverage/cov1",  # stay -> patient -> Coverage: two hops
    }
    gathered = group_resources(
        _gathered(administrations, store, HOPS), "Encounter/icu1", administrations
    )
    assert gathered == everything
    with pytest.raises(NotGathered):
        group_resources(
            _gathered(administrations, store, HOPS - 1), "Encounter/icu1", administrations
        )


def test_a_group_audited_on_too_little_is_reported_not_audited() -> None:
    from injection_cds.audit.grouping import HOPS
    from injection_cds.audit.worker import audit_group_safely
    from injection_cds.core.context import RuleContext

    administrations, store = _deep_export()
    ctx = RuleContext()
    short = audit_group_safely(
        _gathered(administrations, store, HOPS - 1), ctx, "Encounter/icu1", administrations
    )
    assert short.error == "NotGathered" and not short.findings
    full = audit_group_safely(
        _gathered(administrations, store, HOPS), ctx, "Encounter/icu1", administrations
    )
    assert full.error is None and full.findings


def test_totals_merge_equals_one_fold_and_units_sum_exactly() -> None:
    from injection_cds.audit.aggregate import Totals
    from injection_cds.audit.worker import AdministrationResult, FindingResult, GroupResult

    def group(n: int, units: float) -> GroupResult:
        data = orjson.dumps({"lines": [{"code": "96372", "system": "cpt", "units": units}]})
        return GroupResult(
            f"Encounter/e{n}",
            f"dept{n % 2}",
            [AdministrationResult(f"MedicationAdministration/a{n}", "drug", "t", True)],
            [FindingResult("BIL001", "info", f"MedicationAdministration/a{n}", "", "m", data)],
        )

    groups = [group(n, units) for n, units in enumerate([0.1, 0.2, 0.3, 1e16, -1e16, 0.7])]
    one = Totals()
    for g in groups:
        one.add(g)
    left, right = Totals(), Totals()
    for g in reversed(groups[:3]):
        right.add(g)
    for g in groups[3:]:
        left.add(g)
    left.merge(right)
    assert left.summary() == one.summary()
    assert left.tables() == one.tables()
    assert one.tables()["billingLines"][0]["units"] == 1.3  # exact, whatever the order
