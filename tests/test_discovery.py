"""Discovery is generated from the definitions, and the definitions agree with the handlers."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from injection_cds.devtools.synthetic import SERVICE_HOOKS, hook_request
from injection_cds.protocol.services import load_services

try:  # tests/ is on sys.path, or tests is a package (tests/__init__.py)
    from cds_test_support import operation_outcome_issues
except ImportError:  # pragma: no cover
    from tests.cds_test_support import operation_outcome_issues

EXPECTED = {
    "injection-charting": "org.injectioncds.medicationadministration-sign",
    "injection-discharge": "encounter-discharge",
    "injection-order-sign": "order-sign",
}
ALLOWED_FIELDS = {"hook", "title", "description", "id", "prefetch", "usageRequirements"}
TOKEN = re.compile(r"\{\{([^}]*)\}\}")
USER_TOKENS = {
    "userPractitionerId",
    "userPractitionerRoleId",
    "userPatientId",
    "userRelatedPersonId",
}


def test_discovery_lists_the_three_services(client: FlaskClient) -> None:
    response = client.get("/cds-services")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    services = response.get_json()["services"]
    assert {s["id"]: s["hook"] for s in services} == EXPECTED
    for service in services:
        assert set(service) <= ALLOWED_FIELDS, set(service) - ALLOWED_FIELDS
        for field in ("hook", "title", "description", "id"):
            assert isinstance(service[field], str) and service[field].strip()
        prefetch = service["prefetch"]
        assert prefetch and all(isinstance(v, str) and v for v in prefetch.values())
        assert {"encounter", "conditions", "coverage", "patient"} <= set(prefetch)
        # ChargeItems are the encounter's: not asked on order-sign, whose context may lack it
        assert ("chargeItems" in prefetch) is (service["hook"] != "order-sign")


def test_no_internal_fields_leak(client: FlaskClient) -> None:
    text = client.get("/cds-services").get_data(as_text=True)
    for internal in ('"required"', '"role"', '"context"', '"resources"', '"query"'):
        assert internal not in text


def test_prefetch_templates_use_only_allowed_tokens(client: FlaskClient) -> None:
    services = client.get("/cds-services").get_json()["services"]
    definitions = load_services()
    for service in services:
        context_fields = set(definitions[service["id"]].required_context) | {"encounterId"}
        for template in service["prefetch"].values():
            for token in TOKEN.findall(template):
                name = token.strip()
                if name in USER_TOKENS:
                    continue
                assert name.startswith("context."), template
                assert name.removeprefix("context.") in context_fields, template


def test_discharge_prefetches_the_administrations_with_medications(client: FlaskClient) -> None:
    (discharge,) = [
        s
        for s in client.get("/cds-services").get_json()["services"]
        if s["id"] == "injection-discharge"
    ]
    query = discharge["prefetch"]["medicationAdministrations"]
    assert query.startswith("MedicationAdministration?")
    assert "_include=MedicationAdministration:medication" in query


def test_discovery_matches_the_definitions(client: FlaskClient) -> None:
    services = client.get("/cds-services").get_json()["services"]
    definitions = load_services()
    assert [s["id"] for s in services] == list(definitions)
    for service in services:
        definition = definitions[service["id"]]
        assert service["hook"] == definition.hook
        assert service["prefetch"] == {p.key: p.query for p in definition.prefetch}


@pytest.mark.parametrize("service_id", list(load_services()))
def test_every_defined_service_is_callable(client: FlaskClient, service_id: str) -> None:
    assert service_id in SERVICE_HOOKS
    response = client.post(f"/cds-services/{service_id}", json=hook_request(service_id, seed=4))
    assert response.status_code == 200, response.get_json()
    assert isinstance(response.get_json()["cards"], list)


@pytest.mark.parametrize(
    ("service_id", "field"),
    [(s.id, name) for s in load_services().values() for name in s.required_context],
)
def test_every_required_context_field_is_enforced(
    client: FlaskClient, service_id: str, field: str
) -> None:
    body = hook_request(service_id, seed=4)
    del body["context"][field]
    response = client.post(f"/cds-services/{service_id}", json=body)
    assert response.status_code == 400
    issues = operation_outcome_issues(response.get_json())
    assert any(f"context.{field}" in issue.get("expression", ()) for issue in issues)


@pytest.mark.parametrize(
    ("service_id", "key"),
    [(s.id, p.key) for s in load_services().values() for p in s.prefetch if p.required],
)
def test_every_required_prefetch_key_is_enforced(
    client: FlaskClient, service_id: str, key: str
) -> None:
    body = hook_request(service_id, seed=4)
    del body["prefetch"][key]
    response = client.post(f"/cds-services/{service_id}", json=body)
    assert response.status_code == 412
    issues = operation_outcome_issues(response.get_json())
    assert any(f"prefetch.{key}" in issue.get("expression", ()) for issue in issues)


@pytest.mark.parametrize("service_id", list(load_services()))
def test_each_service_answers_only_its_own_hook(client: FlaskClient, service_id: str) -> None:
    for other_id, other_hook in EXPECTED.items():
        if other_id == service_id:
            continue
        body = hook_request(service_id, seed=4)
        body["hook"] = other_hook
        assert client.post(f"/cds-services/{service_id}", json=body).status_code == 400
