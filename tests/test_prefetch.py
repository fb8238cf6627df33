"""The four prefetch states, and the FHIR server fallback against a real local HTTP server.

CDS Hooks 2.0 §Prefetch: a key is absent, ``null``, a resource or searchset Bundle, or an
OperationOutcome. Absent and failed keys are fetched from ``fhirServer`` with the bearer
token; when required data can be had neither way the answer is 412. The token never
appears in a log line or an error body.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from injection_cds.devtools.synthetic import hook_request
from injection_cds.fhir.prefetch import render_template
from injection_cds.protocol.services import load_services

try:  # tests/ is on sys.path, or tests is a package (tests/__init__.py)
    from cds_test_support import TOKEN, FhirStub, app_for, operation_outcome_issues, searchset
except ImportError:  # pragma: no cover
    from tests.cds_test_support import TOKEN, FhirStub, app_for, operation_outcome_issues, searchset

Json = dict[str, Any]
DISCHARGE = "injection-discharge"
CHARTING = "injection-charting"
FAST = {"fhir": {"allow_http_loopback": True, "connect_timeout": 1.0, "read_timeout": 0.4}}
OUTCOME: Json = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "timeout", "diagnostics": "prefetch timed out"}],
}


def discharge_request(seed: int = 2) -> Json:
    return hook_request(DISCHARGE, seed=seed, n_administrations=3, contained=False, gap_rate=0.5)


def authorization() -> Json:
    return {
        "access_token": TOKEN,
        "token_type": "Bearer",
        "expires_in": 30,
        "scope": "patient/*.read user/*.read",
        "subject": "injection-cds",
    }


def fetching(full: Json, server: str, *keys: str) -> Json:
    """``full`` without these prefetch keys (none named: no prefetch at all), the service to
    fetch them from ``server`` with the bearer token."""
    body = copy.deepcopy(full)
    for key in keys:
        del body["prefetch"][key]
    if not keys:
        del body["prefetch"]
    body["fhirServer"] = server
    body["fhirAuthorization"] = authorization()
    return body


def query_for(service_id: str, key: str, context: Json) -> str:
    (spec,) = [p for p in load_services()[service_id].prefetch if p.key == key]
    query = render_template(spec.query, context)
    assert query is not None
    return query


def serve_prefetch(stub: FhirStub, body: Json, service_id: str = DISCHARGE) -> None:
    """The stub answers every prefetch query with what the request prefetched."""
    for key, value in body["prefetch"].items():
        stub.add(query_for(service_id, key, body["context"]), value)


def summaries(response_json: Json) -> list[tuple[str, str, str]]:
    return [
        (c["source"]["topic"]["code"], c["summary"], c.get("detail", ""))
        for c in response_json["cards"]
    ]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    with app_for(tmp_path, **FAST) as app:
        yield app


@pytest.fixture
def stub() -> Iterator[FhirStub]:
    with FhirStub() as server:
        yield server


def post(client: FlaskClient, body: Json, service: str = DISCHARGE) -> Any:
    return client.post(f"/cds-services/{service}", json=body)


def assert_412(response: Any, key: str) -> None:
    assert response.status_code == 412, response.get_data(as_text=True)
    issues = operation_outcome_issues(response.get_json())
    assert any(f"prefetch.{key}" in issue.get("expression", ()) for issue in issues), issues
    assert TOKEN not in response.get_data(as_text=True)


# --- the four states, no FHIR server ------------------------------------------------------


def test_resource_and_searchset_bundle_are_used(client: FlaskClient) -> None:
    body = discharge_request()
    response = post(client, body)
    assert response.status_code == 200
    assert response.get_json()["cards"], "the gaps in the administrations yield cards"


def test_null_means_no_data(client: FlaskClient) -> None:
    body = discharge_request()
    body["prefetch"]["medicationAdministrations"] = None
    body["prefetch"]["coverage"] = None
    response = post(client, body)
    assert response.status_code == 200
    assert response.get_json() == {"cards": []}, "no administrations: nothing to say"


def test_empty_searchset_means_no_data(client: FlaskClient) -> None:
    body = discharge_request()
    body["prefetch"]["medicationAdministrations"] = searchset([])
    assert post(client, body).get_json() == {"cards": []}


def test_absent_required_key_is_412_and_absent_optional_key_is_fine(client: FlaskClient) -> None:
    body = discharge_request()
    del body["prefetch"]["coverage"]
    assert post(client, body).status_code == 200
    del body["prefetch"]["medicationAdministrations"]
    assert_412(post(client, body), "medicationAdministrations")


def test_operation_outcome_key_is_a_failed_prefetch(client: FlaskClient) -> None:
    body = discharge_request()
    body["prefetch"]["medicationAdministrations"] = OUTCOME
    assert_412(post(client, body), "medicationAdministrations")
    body = discharge_request()
    body["prefetch"]["coverage"] = OUTCOME
    assert post(client, body).status_code == 200


def test_operation_outcome_entries_in_a_searchset_are_not_data(client: FlaskClient) -> None:
    body = discharge_request()
    expected = summaries(post(client, body).get_json())
    bundle = body["prefetch"]["medicationAdministrations"]
    bundle["entry"].append({"resource": OUTCOME, "search": {"mode": "outcome"}})
    response = post(client, body)
    assert response.status_code == 200
    assert summaries(response.get_json()) == expected


# --- the FHIR server fallback -------------------------------------------------------------


def test_absent_keys_are_fetched_with_the_bearer_token(client: FlaskClient, stub: FhirStub) -> None:
    full = discharge_request()
    expected = summaries(post(client, full).get_json())
    assert expected
    serve_prefetch(stub, full)
    body = fetching(full, stub.base)
    response = post(client, body)
    assert response.status_code == 200, response.get_json()
    assert summaries(response.get_json()) == expected
    assert len(stub.seen) == len(full["prefetch"])
    assert all(seen.headers.get("Authorization") == f"Bearer {TOKEN}" for seen in stub.seen)
    assert all("fhir+json" in seen.headers.get("Accept", "") for seen in stub.seen)
    paths = {seen.path for seen in stub.seen}
    assert f"/fhir/Encounter/{full['context']['encounterId']}" in paths


def test_only_absent_and_failed_keys_are_fetched(client: FlaskClient, stub: FhirStub) -> None:
    full = discharge_request()
    serve_prefetch(stub, full)
    body = fetching(full, stub.base + "/", "encounter")
    body["prefetch"]["conditions"] = OUTCOME
    assert post(client, body).status_code == 200
    fetched = sorted(seen.path.split("?")[0] for seen in stub.seen)
    assert fetched == sorted(
        ["/fhir/Condition", f"/fhir/Encounter/{full['context']['encounterId']}"]
    )


def test_fetch_without_a_token_sends_no_authorization(client: FlaskClient) -> None:
    with FhirStub(token=None) as open_server:
        full = discharge_request()
        serve_prefetch(open_server, full)
        body = copy.deepcopy(full)
        del body["prefetch"]["conditions"]
        body["fhirServer"] = open_server.base
        assert post(client, body).status_code == 200
        assert [s for s in open_server.seen if "Authorization" in s.headers] == []


def _paginate(stub: FhirStub, key: str, query: str, bundle: Json, per_page: int) -> int:
    entries = bundle["entry"]
    pages = [entries[i : i + per_page] for i in range(0, len(entries), per_page)]
    for number, page in enumerate(pages):
        next_url = f"{stub.base}/page/{key}/{number + 1}" if number + 1 < len(pages) else None
        shell = searchset([e["resource"] for e in page], next_url)
        shell["entry"] = page
        stub.add(query if number == 0 else f"page/{key}/{number}", shell)
    return len(pages)


def test_paginated_searchsets_are_followed(client: FlaskClient, stub: FhirStub) -> None:
    full = discharge_request()
    expected = summaries(post(client, full).get_json())
    serve_prefetch(stub, full)
    key = "medicationAdministrations"
    query = query_for(DISCHARGE, key, full["context"])
    pages = _paginate(stub, key, query, full["prefetch"][key], per_page=2)
    assert pages == 3
    body = fetching(full, stub.base, key)
    response = post(client, body)
    assert response.status_code == 200, response.get_json()
    assert summaries(response.get_json()) == expected
    assert sum("/page/" in s.path for s in stub.seen) == 2
    assert all(s.headers.get("Authorization") == f"Bearer {TOKEN}" for s in stub.seen)


def test_more_pages_than_allowed_is_412(tmp_path: Path, stub: FhirStub) -> None:
    full = discharge_request()
    key = "medicationAdministrations"
    _paginate(stub, key, query_for(DISCHARGE, key, full["context"]), full["prefetch"][key], 1)
    body = fetching(full, stub.base, key)
    config = {"fhir": {**FAST["fhir"], "max_pages": 2}}
    with app_for(tmp_path, **config) as app:
        assert_412(post(app.test_client(), body), key)


def test_next_link_to_another_origin_is_refused(client: FlaskClient, stub: FhirStub) -> None:
    with FhirStub() as elsewhere:
        full = discharge_request()
        key = "medicationAdministrations"
        query = query_for(DISCHARGE, key, full["context"])
        bundle = copy.deepcopy(full["prefetch"][key])
        bundle["link"] = [{"relation": "next", "url": f"{elsewhere.base}/{query}"}]
        stub.add(query, bundle)
        elsewhere.add(query, searchset([]))
        body = fetching(full, stub.base, key)
        assert_412(post(client, body), key)
        assert elsewhere.seen == [], "the token must not go to another origin"


@pytest.mark.parametrize(
    "route",
    [
        {"status": 500, "body": OUTCOME},
        {"status": 503, "body": OUTCOME},
        {"status": 403, "body": OUTCOME},
        {"status": 302, "body": {}, "headers": {"Location": "http://127.0.0.1:9/fhir"}},
        {"raw": b"<html>not json</html>", "content_type": "text/html"},
        {"raw": b"[1, 2, 3]"},
        {"delay": 1.5, "body": searchset([])},
    ],
    ids=["500", "503", "403", "redirect", "html", "json-array", "timeout"],
)
def test_fetch_failures_of_a_required_key_are_412(
    client: FlaskClient, stub: FhirStub, route: Json
) -> None:
    full = discharge_request()
    serve_prefetch(stub, full)
    key = "conditions"
    stub.add(query_for(DISCHARGE, key, full["context"]), **route)
    body = fetching(full, stub.base, key)
    assert_412(post(client, body), key)
    assert len(stub.seen) == 1, "a redirect is not followed; nothing else is fetched"


def test_wrong_token_is_412(client: FlaskClient) -> None:
    with FhirStub(token="another-token") as strict:
        full = discharge_request()
        serve_prefetch(strict, full)
        body = fetching(full, strict.base, "encounter")
        assert_412(post(client, body), "encounter")


def test_server_that_is_not_listening_is_412(client: FlaskClient) -> None:
    with FhirStub() as closed:
        base = closed.base
    body = discharge_request()
    del body["prefetch"]["encounter"]
    body["fhirServer"] = base
    body["fhirAuthorization"] = authorization()
    assert_412(post(client, body), "encounter")


def test_failure_of_an_optional_key_is_ignored(client: FlaskClient, stub: FhirStub) -> None:
    full = discharge_request()
    serve_prefetch(stub, full)
    stub.add(query_for(DISCHARGE, "coverage", full["context"]), status=500, body=OUTCOME)
    body = fetching(full, stub.base, "coverage")
    assert post(client, body).status_code == 200


def test_invalid_fhir_from_the_server_is_an_error_not_a_crash(
    client: FlaskClient, stub: FhirStub
) -> None:
    full = discharge_request()
    encounter = dict(full["prefetch"]["encounter"], status=42)
    stub.add(query_for(DISCHARGE, "encounter", full["context"]), encounter)
    body = fetching(full, stub.base, "encounter")
    response = post(client, body)
    assert 400 <= response.status_code < 500
    operation_outcome_issues(response.get_json())


def test_http_loopback_needs_the_configuration(tmp_path: Path, stub: FhirStub) -> None:
    full = discharge_request()
    serve_prefetch(stub, full)
    body = fetching(full, stub.base, "encounter")
    with app_for(tmp_path) as app:
        response = post(app.test_client(), body)
    assert response.status_code == 400
    assert stub.seen == []


def test_localhost_name_counts_as_loopback(client: FlaskClient, stub: FhirStub) -> None:
    full = discharge_request()
    serve_prefetch(stub, full)
    body = fetching(full, stub.base.replace("127.0.0.1", "localhost"), "encounter")
    assert post(client, body).status_code == 200


# --- the token never leaks ----------------------------------------------------------------


def test_the_token_never_appears_in_logs_or_error_bodies(
    client: FlaskClient, stub: FhirStub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    full = discharge_request()
    serve_prefetch(stub, full)
    stub.add(query_for(DISCHARGE, "conditions", full["context"]), status=500, body=OUTCOME)
    texts: list[str] = []
    for drop, expect in (("encounter", 200), ("conditions", 412)):
        body = fetching(full, stub.base, drop)
        response = post(client, body)
        assert response.status_code == expect
        texts.append(response.get_data(as_text=True))
        texts.append(json.dumps(dict(response.headers)))
    body = discharge_request()
    body["fhirAuthorization"] = authorization()  # no fhirServer: 400
    response = post(client, body)
    assert response.status_code == 400
    texts.append(response.get_data(as_text=True))
    assert caplog.records, "DEBUG logging was captured (urllib3 logs each request)"
    logged = caplog.text + "".join(str(r.args) + str(r.msg) for r in caplog.records)
    assert TOKEN not in logged
    assert all(TOKEN not in text for text in texts)


@pytest.mark.parametrize(
    "link",
    [5, "next", [{"relation": "next", "url": 5}], [{"relation": "next"}], {"relation": "next"}],
)
def test_malformed_next_links_are_412_not_a_crash(
    client: FlaskClient, stub: FhirStub, link: Any
) -> None:
    full = discharge_request()
    key = "medicationAdministrations"
    bundle = dict(full["prefetch"][key], link=link)
    stub.add(query_for(DISCHARGE, key, full["context"]), bundle)
    body = fetching(full, stub.base, key)
    response = post(client, body)
    assert response.status_code in (412, 422), response.get_data(as_text=True)
    operation_outcome_issues(response.get_json())


def test_relative_next_link_stays_on_the_server(client: FlaskClient, stub: FhirStub) -> None:
    full = discharge_request()
    expected = summaries(post(client, full).get_json())
    serve_prefetch(stub, full)
    key = "medicationAdministrations"
    query = query_for(DISCHARGE, key, full["context"])
    entries = full["prefetch"][key]["entry"]
    first = searchset([])
    first["entry"] = entries[:3]
    first["link"] = [{"relation": "next", "url": "page-2"}]
    second = searchset([])
    second["entry"] = entries[3:]
    stub.add(query, first)
    stub.add("page-2", second)
    body = fetching(full, stub.base, key)
    response = post(client, body)
    assert response.status_code == 200, response.get_json()
    assert summaries(response.get_json()) == expected


def test_context_values_cannot_change_the_query(client: FlaskClient, stub: FhirStub) -> None:
    full = discharge_request()
    body = fetching(full, stub.base, "conditions")
    body["context"]["patientId"] = "p1&_count=0#x"
    post(client, body)
    (seen,) = [s for s in stub.seen if s.path.startswith("/fhir/Condition")]
    assert "patient=p1%26_count%3D0%23x&" in seen.path
    assert "_count=0" not in seen.path
