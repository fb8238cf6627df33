"""Data nobody on the team wrote: every administration of ``../shared/data/external/*/``.

Each encounter's administrations go through the pipeline as one ``encounter-discharge``
request, prefetched from the NDJSON files (the Encounter; the administrations with their
Medications and MedicationRequests; the Conditions of the encounter and of the hospital
stay it is part of). No request may fail, and the findings must be ones a coder agrees with.
Skipped where the shared data folder is absent.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from injection_cds.core.context import RuleContext
from injection_cds.protocol.pipeline import CallResult, call_service

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "data" / "external"
DATASETS = ("hl7-fhir-r4-examples", "synthea-senzing-demo", "mimic-iv-demo-fhir")

Json = dict[str, Any]


def _id(reference: Any) -> str:
    return str((reference or {}).get("reference", "")).split("/")[-1]


def _searchset(matches: list[Json], includes: list[Json] | None = None) -> Json:
    bundle: Json = {"resourceType": "Bundle", "type": "searchset", "total": len(matches)}
    entries = [{"resource": r, "search": {"mode": "match"}} for r in matches]
    entries += [{"resource": r, "search": {"mode": "include"}} for r in includes or []]
    if entries:
        bundle["entry"] = entries
    return bundle


@dataclass
class EncounterRun:
    encounter_id: str
    administrations: list[Json]
    result: CallResult

    def rules_for(self, administration_id: str) -> set[str]:
        wanted = f"MedicationAdministration/{administration_id}"
        return {f.rule for f in self.result.findings if f.resource == wanted}


def _load(dataset: str) -> dict[str, list[Json]]:
    folder = EXTERNAL / dataset
    if not folder.is_dir():
        pytest.skip(f"{folder} is not here")
    return {
        path.stem: [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        for path in folder.glob("*.ndjson")
    }


def _requests(data: dict[str, list[Json]]) -> Iterator[tuple[str, list[Json], Json]]:
    encounters = {e["id"]: e for e in data.get("Encounter", [])}
    medications = {m["id"]: m for m in data.get("Medication", [])}
    orders = {r["id"]: r for r in data.get("MedicationRequest", [])}
    conditions: dict[str, list[Json]] = defaultdict(list)
    for condition in data.get("Condition", []):
        conditions[_id(condition.get("encounter"))].append(condition)
    by_encounter: dict[str, list[Json]] = defaultdict(list)
    for administration in data["MedicationAdministration"]:
        by_encounter[_id(administration.get("context"))].append(administration)
    for encounter_id, administrations in sorted(by_encounter.items()):
        encounter = encounters.get(encounter_id)
        includes: dict[str, Json] = {}
        for administration in administrations:
            medication = medications.get(_id(administration.get("medicationReference")))
            if medication is not None:
                includes[f"Medication/{medication['id']}"] = medication
                for ingredient in medication.get("ingredient", []):
                    inner = medications.get(_id(ingredient.get("itemReference")))
                    if inner is not None:
                        includes[f"Medication/{inner['id']}"] = inner
            order = orders.get(_id(administration.get("request")))
            if order is not None:
                includes[f"MedicationRequest/{order['id']}"] = order
        own = {encounter_id}
        if encounter and encounter.get("partOf"):
            own.add(_id(encounter["partOf"]))
        patient_id = _id(administrations[0].get("subject"))
        prefetch: Json = {
            "encounter": encounter,
            "medicationAdministrations": _searchset(administrations, list(includes.values())),
            "conditions": _searchset([c for e in sorted(own) for c in conditions.get(e, [])]),
        }
        body = {
            "hook": "encounter-discharge",
            "hookInstance": "5d6b0a4e-8a43-4f5c-9f0e-3c2b1a0d9e8f",
            "context": {
                "userId": "Practitioner/reviewer",
                "patientId": patient_id or "unknown",
                "encounterId": encounter_id or "unknown",
            },
            "prefetch": prefetch,
        }
        yield encounter_id, administrations, body


@cache
def runs(dataset: str) -> list[EncounterRun]:
    found = []
    for encounter_id, administrations, body in _requests(_load(dataset)):
        result = call_service(
            "injection-discharge", body, ctx=RuleContext(), base_url="https://cds.example.org"
        )
        found.append(EncounterRun(encounter_id, administrations, result))
    return found


def _by_administration(dataset: str) -> dict[str, tuple[Json, EncounterRun]]:
    return {a["id"]: (a, run) for run in runs(dataset) for a in run.administrations}


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_administration_runs(dataset: str) -> None:
    data = _load(dataset)
    done = runs(dataset)
    assert sum(len(r.administrations) for r in done) == len(data["MedicationAdministration"])
    for run in done:
        cards = run.result.cards
        assert len({c["uuid"] for c in cards}) == len(cards)
        for card in cards:
            assert len(card["summary"]) < 140
            assert card["source"]["topic"]["code"]


# --- HL7 FHIR R4 examples ------------------------------------------------------------------
def test_hl7_iv_administrations_are_not_asked_for_a_site() -> None:
    administrations = _by_administration("hl7-fhir-r4-examples")
    for administration_id in ("medadmin0301", "medadmin0304", "medadmin0305", "medadmin0307"):
        _, run = administrations[administration_id]
        assert "DOC002" not in run.rules_for(administration_id), administration_id


def test_hl7_subcutaneous_insulin_without_site_is_reported() -> None:
    _, run = _by_administration("hl7-fhir-r4-examples")["medadmin0308"]
    rules = run.rules_for("medadmin0308")
    # SNOMED 263887005 "Subcutaneous" is a coded route; the site, lot and diagnosis are missing
    assert "DOC001" not in rules
    assert {"DOC002", "DOC003", "DOC008"} <= rules


def test_hl7_not_completed_and_oral_administrations_get_no_documentation_findings() -> None:
    administrations = _by_administration("hl7-fhir-r4-examples")
    for administration_id, (administration, run) in administrations.items():
        route = json.dumps(administration.get("dosage", {}).get("route"))
        oral = "26643006" in route
        if administration["status"] != "completed" or oral:
            documentation = {r for r in run.rules_for(administration_id) if r.startswith("DOC")}
            assert not documentation, (administration_id, documentation)


# --- Synthea --------------------------------------------------------------------------------
def test_synthea_injections_without_route_get_doc001_and_tablets_nothing() -> None:
    for administration, run in _by_administration("synthea-senzing-demo").values():
        name = json.dumps(administration.get("medicationCodeableConcept", {})).lower()
        rules = run.rules_for(administration["id"])
        if "injection" in name or "syringe" in name:
            assert "DOC001" in rules, administration["id"]
        elif "tablet" in name or "inhaler" in name:
            assert not rules, (administration["id"], rules)


# --- MIMIC-IV demo ----------------------------------------------------------------------------
def _order_route(administration: Json, data: dict[str, list[Json]]) -> str | None:
    orders = {r["id"]: r for r in data.get("MedicationRequest", [])}
    order = orders.get(_id(administration.get("request")))
    for instruction in (order or {}).get("dosageInstruction", []):
        for coding in instruction.get("route", {}).get("coding", []):
            return str(coding.get("code"))
    return None


def test_mimic_oral_drugs_produce_no_cards() -> None:
    data = _load("mimic-iv-demo-fhir")
    checked = 0
    for administration, run in _by_administration("mimic-iv-demo-fhir").values():
        if _order_route(administration, data) in ("PO", "PO/NG"):
            checked += 1
            assert not run.rules_for(administration["id"]), administration["id"]
    assert checked > 0


def test_mimic_sc_and_im_administrations_get_doc001_for_their_own_missing_route() -> None:
    data = _load("mimic-iv-demo-fhir")
    checked = 0
    for administration, run in _by_administration("mimic-iv-demo-fhir").values():
        if administration.get("status") != "completed":
            continue
        if _order_route(administration, data) in ("SC", "SUBCUT", "IM"):
            checked += 1
            rules = run.rules_for(administration["id"])
            if _method_says_not_given(administration):
                # charted "completed" but the eMAR event is "Not Given"/"Flushed": not billed,
                # and no documentation gap to chase
                assert "BIL008" in rules, administration["id"]
                assert not {r for r in rules if r.startswith("DOC")}, administration["id"]
                continue
            # the order says SC/IM, so it is an injection; the administration has no route
            assert "DOC001" in rules, administration["id"]
            assert "DOC002" in rules, administration["id"]
    assert checked > 50


NOT_GIVEN_EVENTS = {"Not Given", "Flushed"}


def _method_says_not_given(administration: dict[str, Any]) -> bool:
    method = (administration.get("dosage") or {}).get("method") or {}
    return any(c.get("code") in NOT_GIVEN_EVENTS for c in method.get("coding") or ())


def test_mimic_not_given_events_are_listed_as_not_billed() -> None:
    not_given = [
        (administration, run)
        for administration, run in _by_administration("mimic-iv-demo-fhir").values()
        if administration.get("status") == "completed" and _method_says_not_given(administration)
    ]
    assert not_given, "the MIMIC extract has completed administrations whose event is Not Given"
    for administration, run in not_given:
        assert not {r for r in run.rules_for(administration["id"]) if r.startswith("DOC")}


def test_mimic_iv_administrations_are_not_asked_for_a_site() -> None:
    data = _load("mimic-iv-demo-fhir")
    checked = 0
    for administration, run in _by_administration("mimic-iv-demo-fhir").values():
        if _order_route(administration, data) in ("IV", "IV DRIP", "IV BOLUS"):
            checked += 1
            assert "DOC002" not in run.rules_for(administration["id"]), administration["id"]
    assert checked > 0


def test_mimic_multi_day_stays_get_no_office_lines() -> None:
    data = _load("mimic-iv-demo-fhir")
    encounters = {e["id"]: e for e in data["Encounter"]}
    multi_day = 0
    for run in runs("mimic-iv-demo-fhir"):
        encounter = encounters.get(run.encounter_id)
        period = (encounter or {}).get("period", {})
        if (encounter or {}).get("class", {}).get("code") != "AMB":
            continue
        if period.get("start", "")[:10] == period.get("end", "")[:10]:
            continue
        multi_day += 1
        for card in run.result.cards:
            lines = card.get("extension", {}).get("org.injectioncds.lines", [])
            professional = [ln for ln in lines if ln.get("claim") == "professional"]
            assert not professional, (run.encounter_id, card["source"]["topic"]["code"])
    assert multi_day, "the demo has multi-day ambulatory stays with administrations"


# --- issue 11: chemotherapy and vaccines on data nobody on the team wrote ----------------------
def _card_lines(run: EncounterRun) -> list[tuple[str, Json]]:
    return [
        (card["source"]["topic"]["code"], line)
        for card in run.result.cards
        for line in card.get("extension", {}).get("org.injectioncds.lines", [])
    ]


def test_synthea_cisplatin_and_paclitaxel_get_chemotherapy_cards_that_say_what_is_missing() -> None:
    """Synthea charts no route and one time: the card names the drug line and what is missing."""
    checked = 0
    for administration, run in _by_administration("synthea-senzing-demo").values():
        name = json.dumps(administration.get("medicationCodeableConcept", {})).lower()
        if "cisplatin" not in name and "paclitaxel" not in name:
            continue
        checked += 1
        findings = [
            f
            for f in run.result.findings
            if f.rule == "BIL022"
            and f.resource == f"MedicationAdministration/{administration['id']}"
        ]
        assert len(findings) == 1, administration["id"]
        assert "route" in findings[0].message and "effectivePeriod" in findings[0].message
        # Every one is on an inpatient stay (class IMP): Part A, so no line is proposed.
        assert "Inpatient stay" in findings[0].message
        assert not [line for rule, line in _card_lines(run) if rule in ("BIL002", "BIL022")]
        assert "96372" not in [line["code"] for _, line in _card_lines(run)]
    assert checked == 122


@pytest.mark.parametrize("dataset", DATASETS)
def test_no_vaccine_is_ever_96372(dataset: str) -> None:
    for run in runs(dataset):
        lines = _card_lines(run)
        if not any(code == "96372" for _, line in lines for code in [line["code"]]):
            continue
        billed = {s for f in run.result.findings if f.rule == "BIL001" for s in f.data["resources"]}
        for administration in run.administrations:
            if f"MedicationAdministration/{administration['id']}" in billed:
                text = json.dumps(administration).lower()
                assert "vaccine" not in text and "cvx" not in text, administration["id"]
