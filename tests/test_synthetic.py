"""The synthetic data generator: valid R4, deterministic, realistic enough to fire rules."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from random import Random
from typing import Any

import pytest
from click.testing import CliRunner

from injection_cds.cli.generate import generate
from injection_cds.core import codes
from injection_cds.core.ndc import normalise_ndc
from injection_cds.devtools.synthetic import (
    BULK_TYPES,
    DRUGS,
    GAPS,
    SERVICE_HOOKS,
    generate_encounter,
    hook_request,
    request_resources,
    write_bulk_ndjson,
)
from injection_cds.fhir.validation import validate_resource, validate_resources

Json = dict[str, Any]


def _all_resources(visit: Any) -> list[Json]:
    out = [visit["patient"], visit["encounter"]]
    for key in ("conditions", "coverage", "charge_items", "administrations", "medications"):
        out.extend(visit[key])
    out.extend(visit["orders"])
    return out


@pytest.mark.parametrize("contained", [True, False])
def test_every_generated_resource_validates(contained: bool) -> None:
    rng = Random(7)
    seen: Counter[str] = Counter()
    for _ in range(15):
        visit = generate_encounter(rng, 6, gap_rate=0.6, contained=contained, n_orders=2)
        for resource in _all_resources(visit):
            validate_resource(resource)
            seen[resource["resourceType"]] += 1
            for inner in resource.get("contained", ()):
                validate_resource(inner)
    expected = {"Patient", "Encounter", "Condition", "Coverage", "ChargeItem"}
    expected |= {"MedicationAdministration", "MedicationRequest"}
    assert expected <= set(seen)
    assert ("Medication" in seen) is (not contained)


@pytest.mark.parametrize("service", sorted(SERVICE_HOOKS))
@pytest.mark.parametrize("contained", [True, False])
def test_hook_requests_are_whole_and_valid(service: str, contained: bool) -> None:
    request = hook_request(service, n_administrations=8, seed=3, contained=contained)
    assert request["hook"] == SERVICE_HOOKS[service]
    assert set(request) == {"hook", "hookInstance", "context", "prefetch"}
    context, prefetch = request["context"], request["prefetch"]
    assert context["userId"].startswith("Practitioner/")
    assert context["patientId"] == prefetch["patient"]["id"]
    assert context["encounterId"] == prefetch["encounter"]["id"]
    keys = {"encounter", "conditions", "coverage", "chargeItems", "patient"}
    if service == "injection-discharge":
        keys.add("medicationAdministrations")
    if service != "injection-order-sign":
        keys.add("medicationRequests")  # the encounter's orders, as services.json prefetches
    assert set(prefetch) == keys
    for key in ("conditions", "coverage", "chargeItems", *({"medicationRequests"} & keys)):
        assert prefetch[key]["type"] == "searchset"
    for name, value in (*context.items(), *prefetch.items()):
        if isinstance(value, dict):
            validate_resources(value, name)
    for resource in request_resources(request):
        validate_resource(resource)
    if service == "injection-charting":
        bundle = context["medicationAdministrations"]
        assert bundle["type"] == "collection"
        kinds = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
        assert kinds["MedicationAdministration"] == 8
    elif service == "injection-discharge":
        bundle = prefetch["medicationAdministrations"]
        modes = Counter(e["search"]["mode"] for e in bundle["entry"])
        assert modes["match"] == 8
        assert modes["include"] == (0 if contained else 8)
        assert bundle["total"] == 8
    else:
        orders = context["draftOrders"]["entry"]
        assert len(orders) == 8
        assert all(e["resource"]["status"] == "draft" for e in orders)


def test_scenario_two_shape() -> None:
    request = hook_request("encounter-discharge", n_administrations=8, seed=1)
    prefetch = request["prefetch"]
    assert len(prefetch["medicationAdministrations"]["entry"]) == 8
    assert len(prefetch["conditions"]["entry"]) == 3
    assert len(prefetch["coverage"]["entry"]) == 1
    assert len(prefetch["chargeItems"]["entry"]) == 2
    em = prefetch["chargeItems"]["entry"][0]["resource"]["code"]["coding"][0]
    assert em["system"] == codes.CPT and em["code"] in {f"9921{i}" for i in range(1, 6)}


def test_same_seed_same_output_and_different_seed_differs() -> None:
    first = json.dumps(hook_request("injection-discharge", n_administrations=5, seed=11))
    again = json.dumps(hook_request("injection-discharge", n_administrations=5, seed=11))
    other = json.dumps(hook_request("injection-discharge", n_administrations=5, seed=12))
    assert first == again
    assert first != other


def test_unknown_service_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown service"):
        hook_request("no-such-service")
    assert hook_request("order-sign")["hook"] == "order-sign"


def test_administrations_look_charted() -> None:
    rng = Random(5)
    administrations: list[Json] = []
    for _ in range(40):
        administrations.extend(generate_encounter(rng, 4, gap_rate=0.0)["administrations"])
    for admin in administrations:
        med = admin["contained"][0]
        assert admin["medicationReference"]["reference"] == "#med1"
        assert med["batch"]["lotNumber"] and med["batch"]["expirationDate"]
        ndc = next(c["code"] for c in med["code"]["coding"] if c["system"] == codes.NDC)
        assert normalise_ndc(ndc) is not None, ndc
        assert admin["context"]["reference"].startswith("Encounter/")
        assert admin["reasonReference"][0]["reference"].startswith("Condition/")
        assert admin["dosage"]["dose"]["system"] == codes.UCUM
        route = admin["dosage"]["route"]["coding"][0]
        assert (route["system"], route["code"]) in {
            (codes.SNOMED, "78421000"),
            (codes.SNOMED, "34206005"),
            (codes.V3_ROUTE, "IVPUSH"),
        }
        if route["code"] != "IVPUSH":
            site = admin["dosage"]["site"]["coding"][0]
            assert site["system"] == codes.V2_BODY_SITE
            assert site["code"] in codes.V2_INJECTION_SITES
    assert len({d.ndc for d in DRUGS.values()}) == len(DRUGS)


def test_gap_rate_makes_gaps() -> None:
    rng = Random(9)
    administrations: list[Json] = []
    for _ in range(60):
        administrations.extend(generate_encounter(rng, 5, gap_rate=1.0)["administrations"])
    missing = Counter()
    for admin in administrations:
        dosage, med = admin["dosage"], admin["contained"][0]
        missing["site"] += "site" not in dosage
        missing["performer"] += "performer" not in admin
        missing["reason"] += "reasonReference" not in admin
        missing["lot"] += "lotNumber" not in med.get("batch", {})
        missing["text_route"] += "coding" not in dosage["route"]
        ndcs = [c["code"] for c in med["code"].get("coding", ()) if c["system"] == codes.NDC]
        missing["malformed_ndc"] += any(normalise_ndc(n) is None for n in ndcs)
    assert all(missing[k] > 5 for k in missing), missing
    assert len(GAPS) >= 10
    clean = generate_encounter(Random(1), 30, gap_rate=0.0)["administrations"]
    assert all("performer" in a and "site" in a["dosage"] or "IVPUSH" in str(a) for a in clean)


def _read(path: Path) -> list[Json]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return [json.loads(line) for line in handle]


@pytest.mark.parametrize("use_gzip", [False, True])
def test_bulk_ndjson(tmp_path: Path, use_gzip: bool) -> None:
    counts = write_bulk_ndjson(tmp_path, 60, seed=4, gzip=use_gzip)
    suffix = ".ndjson.gz" if use_gzip else ".ndjson"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(t + suffix for t in BULK_TYPES)
    assert counts["MedicationAdministration"] == 60
    assert counts["Medication"] == 60
    ids: dict[str, set[str]] = {}
    for resource_type in BULK_TYPES:
        resources = _read(tmp_path / f"{resource_type}{suffix}")
        assert len(resources) == counts[resource_type]
        for resource in resources:
            assert resource["resourceType"] == resource_type
            validate_resource(resource)
        ids[resource_type] = {r["id"] for r in resources}
        assert len(ids[resource_type]) == len(resources)
    for admin in _read(tmp_path / f"MedicationAdministration{suffix}"):
        assert "contained" not in admin
        med = admin["medicationReference"]["reference"].removeprefix("Medication/")
        assert med in ids["Medication"]
        assert admin["context"]["reference"].removeprefix("Encounter/") in ids["Encounter"]
        assert admin["subject"]["reference"].removeprefix("Patient/") in ids["Patient"]
    again = tmp_path / "again"
    write_bulk_ndjson(again, 60, seed=4, gzip=use_gzip)
    for resource_type in BULK_TYPES:
        name = f"{resource_type}{suffix}"
        assert (again / name).read_bytes() == (tmp_path / name).read_bytes()


def test_cli_request_and_bulk(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        generate,
        ["request", "--service", "injection-discharge", "--administrations", "3", "--seed", "2"],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body == hook_request("injection-discharge", n_administrations=3, seed=2)
    result = runner.invoke(
        generate, ["bulk", str(tmp_path / "out"), "--administrations", "10", "--seed", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "MedicationAdministration\t10" in result.output
    assert (tmp_path / "out" / "Patient.ndjson").exists()
