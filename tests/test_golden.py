"""Golden tests: whole hook requests and their exact responses, validated against the schemas.

``fixtures/golden/<hook>/<name>.request.json`` is run through the pipeline (base URL fixed,
card uuids derived from the hookInstance) and compared with ``<name>.response.json``.

Regenerate after an intended change, then review every changed card by eye:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from injection_cds.core.context import RuleContext
from injection_cds.protocol.pipeline import call_service
from injection_cds.protocol.services import discovery_document, load_services

ROOT = Path(__file__).resolve().parents[1]
GOLDEN_DIR = ROOT / "fixtures" / "golden"
SCHEMAS = ROOT / "cds_hooks" / "schemas"
BASE_URL = "https://cds.example.org"
HOOKS = (
    "org.injectioncds.medicationadministration-sign",
    "encounter-discharge",
    "order-sign",
)
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

INSTANCE = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
AUTHORIZATION = {
    "access_token": "t",
    "token_type": "Bearer",
    "expires_in": 30,
    "scope": "patient/*.read",
    "subject": "cds",
}
REQUESTS = sorted(p for hook in HOOKS for p in (GOLDEN_DIR / hook).glob("*.request.json"))
REQUEST_FIXTURES = REQUESTS + sorted((ROOT / "fixtures" / "rules").glob("*/*.json"))


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def errors(name: str, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(name).iter_errors(document)
    ]


def empty_values(node: Any, path: str = "") -> list[str]:
    """Paths of null, "", [] or {} anywhere (the spec's JSON rule), except ``cards``."""
    found = []
    if (node is None or node == "" or node == [] or node == {}) and path != "/cards":
        found.append(path or "/")
    if isinstance(node, dict):
        for key, value in node.items():
            found += empty_values(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += empty_values(value, f"{path}/{index}")
    return found


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.request.json')}"


def service_for(hook: str) -> str:
    (service_id,) = [s.id for s in load_services().values() if s.hook == hook]
    return service_id


def respond(request: dict[str, Any]) -> dict[str, Any]:
    result = call_service(
        service_for(request["hook"]), request, ctx=RuleContext(), base_url=BASE_URL
    )
    return result.response


def test_every_hook_has_golden_requests() -> None:
    assert {p.parent.name for p in REQUESTS} == set(HOOKS)


@pytest.mark.parametrize("request_path", REQUESTS, ids=_id)
def test_golden(request_path: Path) -> None:
    request = json.loads(request_path.read_text("utf-8"))
    assert request["hook"] == request_path.parent.name
    response = respond(request)
    response_path = request_path.with_name(
        request_path.name.replace(".request.json", ".response.json")
    )
    if UPDATE:
        response_path.write_text(json.dumps(response, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert response_path.exists(), f"no golden response; run with UPDATE_GOLDEN=1: {response_path}"
    expected = json.loads(response_path.read_text("utf-8"))
    assert response == expected
    assert errors("response", response) == []
    assert empty_values(response) == []
    uuids = [card["uuid"] for card in response["cards"]]
    assert len(uuids) == len(set(uuids))


@pytest.mark.parametrize("request_path", REQUESTS, ids=_id)
def test_golden_is_deterministic_per_hook_instance(request_path: Path) -> None:
    request = json.loads(request_path.read_text("utf-8"))
    first = respond(request)
    assert respond(request) == first  # a retried call gets the same uuids
    retried = dict(request, hookInstance="3f8e1c2a-5b7d-4e9f-8a6c-0d1b2c3e4f50")
    other = respond(retried)
    if first["cards"]:
        assert {c["uuid"] for c in other["cards"]}.isdisjoint({c["uuid"] for c in first["cards"]})


@pytest.mark.parametrize("request_path", REQUEST_FIXTURES, ids=lambda p: p.name)
def test_request_fixtures_are_valid_requests(request_path: Path) -> None:
    assert errors("request", json.loads(request_path.read_text("utf-8"))) == []


# --- what the goldens say, in words a reviewer can check ------------------------------------
def _golden_response(hook: str, name: str) -> dict[str, Any]:
    path = GOLDEN_DIR / hook / f"{name}.response.json"
    return json.loads(path.read_text("utf-8"))


def _codes(response: dict[str, Any]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in response["cards"]]


def test_oral_only_visit_has_no_cards() -> None:
    assert _golden_response("encounter-discharge", "oral_only_no_cards") == {"cards": []}


def test_complete_charting_has_no_cards() -> None:
    # Nothing for the clinician to fix: no card. What it bills is the billing review's
    # (discharge), not the bedside's.
    response = _golden_response(
        "org.injectioncds.medicationadministration-sign", "complete_im_ceftriaxone"
    )
    assert response == {"cards": []}


def _rules(card: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in card["extension"]["org.injectioncds.findings"]}


def test_incomplete_b12_cards_name_only_the_b12() -> None:
    response = _golden_response(
        "org.injectioncds.medicationadministration-sign", "two_injections_one_incomplete"
    )
    cards = response["cards"]
    # one card per urgency for the one administration that lacks something; no billing card
    assert [(c["source"]["topic"]["code"], _rules(c), c["indicator"]) for c in cards] == [
        ("DOC001", {"DOC001"}, "critical"),
        ("DOC002", {"DOC002", "DOC003"}, "warning"),
    ]
    for card in cards:
        resources = {f["resource"] for f in card["extension"]["org.injectioncds.findings"]}
        assert resources == {"MedicationAdministration/ma-b12-1"}
        assert "Cyanocobalamin" in card["detail"]
        assert "(2026-11-24 10:22)" in card["detail"]  # the time, as a person reads it
        assert card["overrideReasons"]
        assert "](" not in card["detail"]  # the rule pages are links, not markdown links
        assert {link["url"] for link in card["links"]} == {
            f"{BASE_URL}/rules/{rule}" for rule in _rules(card)
        }
    assert cards[1]["summary"] == "To complete: injection site missing; lot number missing"


def test_discharge_mixed_visit() -> None:
    response = _golden_response("encounter-discharge", "mixed_visit")
    by_code = {card["source"]["topic"]["code"]: card for card in response["cards"]}
    # enoxaparin: no site, no NDC; nothing about the oral tablet or the refused B12
    for code in ("DOC002", "DOC006"):
        resources = {f["resource"] for f in by_code[code]["extension"]["org.injectioncds.findings"]}
        assert resources == {"MedicationAdministration/ma-enoxaparin-1"}, code
    text = json.dumps(response)
    assert "ma-acetaminophen-1" not in text
    assert not [c for c in by_code if c.startswith("DOC") and c not in ("DOC002", "DOC006")]


def test_order_without_route_dose_or_indication() -> None:
    codes = _codes(_golden_response("order-sign", "order_without_route_dose_or_indication"))
    assert {"DOC001", "DOC008", "DOC010"} <= set(codes)
    assert not {"DOC002", "DOC003", "DOC004", "DOC011", "DOC012", "DOC013"} & set(codes)


# --- the schemas themselves ---------------------------------------------------------------
def test_discovery_document_matches_schema() -> None:
    assert errors("discovery", discovery_document()) == []
    assert errors("discovery", {"services": []}) == []


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"services": [{"hook": "order-sign", "id": "x"}]},
        {"services": [{"hook": "order-sign", "id": "x", "description": "d", "prefetch": {}}]},
        {"services": [{"hook": "", "id": "x", "description": "d"}]},
    ],
)
def test_discovery_schema_rejects(document: Any) -> None:
    assert errors("discovery", document)


def _card(**changes: Any) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
        "summary": "Example Card",
        "indicator": "info",
        "source": {"label": "Static CDS Service Example", "url": "https://example.com"},
    }
    card.update(changes)
    return {k: v for k, v in card.items() if v is not None}


def test_response_schema_accepts_the_spec_example() -> None:
    assert errors("response", {"cards": []}) == []
    assert (
        errors(
            "response",
            {
                "cards": [
                    _card(
                        links=[
                            {"label": "Google", "url": "https://google.com", "type": "absolute"},
                            {
                                "label": "SMART Example App",
                                "url": "https://smart.example.com/launch",
                                "type": "smart",
                                "appContext": '{"session":3456356}',
                            },
                        ]
                    ),
                    _card(
                        uuid=None,
                        indicator="warning",
                        overrideReasons=[
                            {"code": "12354", "system": "http://example.org/o", "display": "Contra"}
                        ],
                        suggestions=[
                            {
                                "label": "Create",
                                "uuid": "e56e1945-20b3-4393-8503-a1a20fd73152",
                                "actions": [
                                    {
                                        "type": "create",
                                        "description": "Create a ChargeItem",
                                        "resource": {"resourceType": "ChargeItem"},
                                    },
                                    {
                                        "type": "delete",
                                        "description": "Remove the order",
                                        "resourceId": "ServiceRequest/1",
                                    },
                                ],
                            }
                        ],
                        selectionBehavior="any",
                    ),
                ]
            },
        )
        == []
    )


@pytest.mark.parametrize(
    "card",
    [
        _card(summary="x" * 140),
        _card(summary=""),
        _card(indicator="hard-stop"),
        _card(source={"url": "https://example.com"}),
        _card(source={"label": "x", "url": "/rules/DOC001"}),
        _card(detail=""),
        _card(overrideReasons=[]),
        _card(overrideReasons=[{"code": "a", "system": "urn:x"}]),
        _card(suggestions=[{"label": "Do it"}]),  # no selectionBehavior
        _card(suggestions=[{"label": "Do it"}], selectionBehavior="all"),
        _card(
            suggestions=[{"label": "x", "actions": [{"type": "create", "description": "d"}]}],
            selectionBehavior="any",
        ),
        _card(
            links=[{"label": "x", "url": "https://x.org", "type": "absolute", "appContext": "c"}]
        ),
        _card(links=[{"label": "x", "url": "https://x.org"}]),
        _card(extension={}),
        _card(uuid=""),
        _card(colour="red"),
    ],
)
def test_response_schema_rejects(card: dict[str, Any]) -> None:
    assert errors("response", {"cards": [card]})


def test_response_schema_needs_cards() -> None:
    assert errors("response", {})
    assert errors("response", {"cards": None})
    assert errors("response", {"cards": [], "systemActions": []})


@pytest.mark.parametrize(
    "request_body",
    [
        {"hookInstance": INSTANCE, "context": {}},
        {"hook": "order-sign", "context": {}},
        {"hook": "order-sign", "hookInstance": INSTANCE},
        {
            "hook": "order-sign",
            "hookInstance": INSTANCE,
            "context": {},
            "fhirAuthorization": AUTHORIZATION,
        },
        {
            "hook": "order-sign",
            "hookInstance": "not-a-uuid",
            "context": {},
        },
        {
            "hook": "order-sign",
            "hookInstance": INSTANCE,
            "context": {},
            "prefetch": {"patient": "Patient/1"},
        },
    ],
)
def test_request_schema_rejects(request_body: dict[str, Any]) -> None:
    assert errors("request", request_body)


def test_request_schema_accepts_null_prefetch_and_authorization() -> None:
    assert (
        errors(
            "request",
            {
                "hook": "order-sign",
                "hookInstance": INSTANCE,
                "fhirServer": "https://ehr.example.org/fhir",
                "fhirAuthorization": {**AUTHORIZATION, "patient": "123"},
                "context": {"userId": "Practitioner/1", "patientId": "123"},
                "prefetch": {"patient": None, "outcome": {"resourceType": "OperationOutcome"}},
            },
        )
        == []
    )
