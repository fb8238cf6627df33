"""The HL7 CDS Hooks Sandbox's own request shapes get cards (``fixtures/sandbox/``).

The fixtures replay what the sandbox (cds-hooks/sandbox, ``medication-reducers.js`` and
``service-exchange.js``) sends for an order it signs against an R4 server: ``fhirServer``
over http on 127.0.0.1 with every prefetch key filled, no ``encounterId``, ``draftOrders`` a
Bundle without ``type``, and a MedicationRequest whose ``category`` (and ``reasonCode``, when
a condition is picked) is one object instead of an array, which is not valid R4. Its
feedback bodies carry override reasons without ``display``. Read leniently (the default),
each gets 200 with cards; ``fhir.strict = true`` keeps the 422.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator, FormatChecker

from injection_cds.core.context import RuleContext
from injection_cds.protocol.pipeline import LENIENT_EXTENSION, call_service
from injection_cds.protocol.services import discovery_document

try:  # tests/ is on sys.path, or tests is a package (tests/__init__.py)
    from cds_test_support import app_for
except ImportError:  # pragma: no cover
    from tests.cds_test_support import app_for

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = ROOT / "fixtures" / "sandbox"
REQUESTS = sorted(SANDBOX.glob("*.request.json"))
SERVICE = "injection-order-sign"
Json = dict[str, Any]


def _load(path: Path) -> Json:
    body: Json = json.loads(path.read_text("utf-8"))
    return body


def _schema(name: str) -> Draft202012Validator:
    schema = json.loads((ROOT / "cds_hooks" / "schemas" / f"{name}.schema.json").read_text())
    return Draft202012Validator(schema, format_checker=FormatChecker())


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    with app_for(tmp_path) as app:  # the defaults: lenient reading, https-only fetching
        yield app


def test_the_fixtures_are_the_sandbox_shapes() -> None:
    assert len(REQUESTS) == 2
    for path in REQUESTS:
        body = _load(path)
        assert body["hook"] == "order-sign"
        assert body["fhirServer"].startswith("http://127.0.0.1")
        assert "encounterId" not in body["context"]
        assert "type" not in body["context"]["draftOrders"]
        (entry,) = body["context"]["draftOrders"]["entry"]
        assert isinstance(entry["resource"]["category"], dict)  # not the R4 array
        assert set(body["prefetch"]) == set(discovery_prefetch())


def discovery_prefetch() -> dict[str, str]:
    (service,) = [s for s in discovery_document()["services"] if s["id"] == SERVICE]
    prefetch: dict[str, str] = service["prefetch"]
    return prefetch


def test_order_sign_prefetch_does_not_depend_on_the_encounter() -> None:
    # order-sign's encounterId is optional, and the sandbox never sends it: a template that
    # needs it would be sent unresolved and come back empty (a false "no diagnosis").
    assert discovery_prefetch()
    for query in discovery_prefetch().values():
        assert "encounterId" not in query, query


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: p.name.removesuffix(".request.json"))
def test_sandbox_order_sign_gets_cards(app: Flask, path: Path) -> None:
    # The defaults: everything is prefetched, so the http fhirServer is never called, and
    # never judged.
    body = _load(path)
    response = app.test_client().post(f"/cds-services/{SERVICE}", json=body)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert list(_schema("response").iter_errors(answer)) == []
    codes = [card["source"]["topic"]["code"] for card in answer["cards"]]
    assert "DOC001" in codes  # the sandbox charts no route on its orders
    (note,) = answer["extension"][LENIENT_EXTENSION]
    assert note["where"] == "context.draftOrders.entry[0].resource"
    assert "MedicationRequest.category" in note["readAsArray"]
    reason = "reasonCode" in body["context"]["draftOrders"]["entry"][0]["resource"]
    # The indication, when picked, is read (as a one-item array): no "no diagnosis" card.
    assert ("DOC008" in codes) is not reason
    for card in answer["cards"]:
        if "suggestions" not in card:
            assert "accept the suggestion" not in card["detail"]
        assert "](" not in card["detail"]  # no link in the markdown: links open apart
        for link in card["links"]:
            assert link["type"] == "absolute" and link["url"].startswith("http")


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: p.name.removesuffix(".request.json"))
def test_strict_reading_keeps_the_422(tmp_path: Path, path: Path) -> None:
    with app_for(tmp_path, fhir={"strict": True, "allow_http_loopback": True}) as app:
        response = app.test_client().post(f"/cds-services/{SERVICE}", json=_load(path))
    assert response.status_code == 422
    diagnostics = " ".join(i["diagnostics"] for i in response.get_json()["issue"])
    assert "MedicationRequest.category" in diagnostics


def test_the_pipeline_answers_without_a_server_too() -> None:
    # ``injection-cds check``: the same request, no FHIR client at all (nothing to fetch).
    result = call_service(
        SERVICE,
        _load(SANDBOX / "order-sign-with-reason.request.json"),
        ctx=RuleContext(),
        base_url="https://cds.example.org",
    )
    assert result.cards
    assert result.visit.encounter is None  # the empty in-progress search: no encounter


def _fill(path: Path, **values: str) -> Json:
    text = path.read_text("utf-8")
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    return json.loads(text)  # type: ignore[no-any-return]


def test_sandbox_feedback_without_display_counts_for_each_rule(app: Flask) -> None:
    client = app.test_client()
    answer = client.post(
        f"/cds-services/{SERVICE}", json=_load(SANDBOX / "order-sign-with-reason.request.json")
    ).get_json()
    card = answer["cards"][0]
    rules = {f["rule"] for f in card["extension"]["org.injectioncds.findings"]}
    body = _fill(SANDBOX / "override.feedback.json", **{"card.uuid": card["uuid"]})
    assert "display" not in body["feedback"][0]["overrideReason"]["reason"]
    posted = client.post(f"/cds-services/{SERVICE}/feedback", json=body)
    assert posted.status_code == 200 and posted.get_json() == {"stored": 1}
    report = {row["rule"]: row for row in client.get("/analytics").get_json()["rules"]}
    for rule in rules:
        assert report[rule]["overridden"] == 1, rule


def test_sandbox_accepted_feedback_is_stored(app: Flask) -> None:
    client = app.test_client()
    answer = client.post(
        f"/cds-services/{SERVICE}", json=_load(SANDBOX / "order-sign-with-reason.request.json")
    ).get_json()
    card = answer["cards"][0]
    body = _fill(
        SANDBOX / "accepted.feedback.json",
        **{"card.uuid": card["uuid"], "suggestion.uuid": "a-suggestion"},
    )
    posted = client.post(f"/cds-services/{SERVICE}/feedback", json=body)
    assert posted.status_code == 200 and posted.get_json() == {"stored": 1}
