"""Every bad input gets its status and an OperationOutcome that says what and where.

No error body echoes a value from the request (it could be PHI or a token): values carry a
marker, and no response may contain it. A seeded fuzz loop checks that no input yields 500.
"""

from __future__ import annotations

import copy
import io
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from injection_cds.devtools.synthetic import hook_request

try:  # tests/ is on sys.path, or tests is a package (tests/__init__.py)
    from cds_test_support import TOKEN, app_for, operation_outcome_issues
except ImportError:  # pragma: no cover
    from tests.cds_test_support import TOKEN, app_for, operation_outcome_issues

Json = dict[str, Any]
MARK = "zqxMARKzqx"
DISCHARGE = "injection-discharge"
CHARTING = "injection-charting"
ORDER_SIGN = "injection-order-sign"
SERVICES = (CHARTING, DISCHARGE, ORDER_SIGN)


def marked_request(service: str = DISCHARGE, seed: int = 3) -> Json:
    """A valid request whose identifying values carry MARK."""
    body = hook_request(service, seed=seed, gap_rate=0.5)
    body["context"]["userId"] = f"Practitioner/{MARK}"
    patient = body["prefetch"]["patient"]
    patient.setdefault("name", [{}])[0]["family"] = f"Doe{MARK}"
    return body


def assert_error(
    response: TestResponse, status: int, *, where: str | None = None, says: str | None = None
) -> list[Json]:
    """The response is an OperationOutcome with this status, no MARK, no token, no trace."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    text = response.get_data(as_text=True)
    assert MARK not in text
    assert TOKEN not in text
    assert "Traceback" not in text
    issues = operation_outcome_issues(json.loads(text))
    if where is not None:
        expressions = [e for issue in issues for e in issue.get("expression", ())]
        assert any(e.startswith(where) for e in expressions), expressions
    if says is not None:
        assert any(says in issue["diagnostics"] for issue in issues), issues
    return issues


def post(client: FlaskClient, body: Any, service: str = DISCHARGE) -> TestResponse:
    return client.post(
        f"/cds-services/{service}", data=json.dumps(body), content_type="application/json"
    )


# --- the valid baseline -------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_marked_requests_are_valid(client: FlaskClient, service: str) -> None:
    response = post(client, marked_request(service), service)
    assert response.status_code == 200, response.get_json()
    assert isinstance(response.get_json()["cards"], list)


# --- 400: the envelope --------------------------------------------------------------------


@pytest.mark.parametrize("hook_instance", [f"{MARK}-not-a-uuid", "123", f"{MARK}" * 3])
def test_hook_instance_must_be_a_uuid(client: FlaskClient, hook_instance: str) -> None:
    """The request schema says ``format: uuid``; the service holds the same line."""
    body = marked_request(CHARTING)
    body["hookInstance"] = hook_instance
    response = post(client, body, CHARTING)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "hookInstance" in text and "UUID" in text
    assert MARK not in text


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"hook": "encounter-discharge",}', b"", b"\xff\xfe{}", b"[1, 2", b"nul"],
    ids=["truncated", "trailing-comma", "empty", "not-utf8", "open-array", "bad-literal"],
)
def test_malformed_json_is_400(client: FlaskClient, raw: bytes) -> None:
    response = client.post(f"/cds-services/{DISCHARGE}", data=raw, content_type="application/json")
    assert_error(response, 400, says="not valid JSON")


@pytest.mark.parametrize("body", [[], "text", 42, None, True, [{"hook": "x"}]])
def test_body_not_an_object_is_400(client: FlaskClient, body: Any) -> None:
    assert_error(post(client, body), 400, says="JSON object")


@pytest.mark.parametrize("field", ["hook", "hookInstance", "context"])
def test_missing_envelope_field_is_400(client: FlaskClient, field: str) -> None:
    body = marked_request()
    del body[field]
    assert_error(post(client, body), 400, where=field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hook", 7),
        ("hook", ""),
        ("hookInstance", None),
        ("hookInstance", ["a"]),
        ("context", "ctx"),
        ("context", []),
        ("context", None),
        ("prefetch", []),
        ("prefetch", None),
        ("fhirServer", 5),
        ("fhirAuthorization", "Bearer x"),
    ],
)
def test_envelope_field_of_the_wrong_type_is_400(
    client: FlaskClient, field: str, value: Any
) -> None:
    body = marked_request()
    body[field] = value
    assert_error(post(client, body), 400, where=field)


@pytest.mark.parametrize("hook", [f"org.example.{MARK}", "order-sign", "patient-view"])
def test_hook_the_service_does_not_serve_is_400(client: FlaskClient, hook: str) -> None:
    body = marked_request()
    body["hook"] = hook
    assert_error(post(client, body), 400, where="hook")


@pytest.mark.parametrize(
    ("service", "field"),
    [
        (DISCHARGE, "patientId"),
        (DISCHARGE, "encounterId"),
        (DISCHARGE, "userId"),
        (CHARTING, "medicationAdministrations"),
        (CHARTING, "encounterId"),
        (ORDER_SIGN, "draftOrders"),
        (ORDER_SIGN, "patientId"),
    ],
)
def test_missing_required_context_is_400(client: FlaskClient, service: str, field: str) -> None:
    body = marked_request(service)
    del body["context"][field]
    assert_error(post(client, body, service), 400, where=f"context.{field}")


@pytest.mark.parametrize("value", [{"id": MARK}, [MARK], 12.5, True])
@pytest.mark.parametrize("field", ["patientId", "encounterId", "userId"])
def test_context_id_that_is_not_a_string_is_400(
    client: FlaskClient, field: str, value: Any
) -> None:
    body = marked_request()
    body["context"][field] = value
    assert_error(post(client, body), 400, where=f"context.{field}")


def test_fhir_authorization_without_fhir_server_is_400(client: FlaskClient) -> None:
    body = marked_request()
    body["fhirAuthorization"] = {
        "access_token": TOKEN,
        "token_type": "Bearer",
        "expires_in": 30,
        "scope": "patient/*.read",
        "subject": "injection-cds",
    }
    assert_error(post(client, body), 400, where="fhirServer")


def test_fhir_authorization_without_token_is_400(client: FlaskClient) -> None:
    body = marked_request()
    body["fhirServer"] = "https://ehr.example.org/fhir"
    body["fhirAuthorization"] = {"token_type": "Bearer", "expires_in": 30}
    assert_error(post(client, body), 400, where="fhirAuthorization.access_token")


@pytest.mark.parametrize(
    "server",
    [
        f"http://{MARK}.example.org/fhir",
        "http://10.0.0.8/fhir",
        "ftp://ehr.example.org/fhir",
        f"{MARK}",
        "https://",
    ],
)
def test_fhir_server_that_may_not_be_called_is_400(client: FlaskClient, server: str) -> None:
    body = marked_request()
    body["prefetch"] = {}  # something must be fetched: only then is fhirServer judged
    body["fhirServer"] = server
    assert_error(post(client, body), 400, where="fhirServer")


def test_http_loopback_fhir_server_is_400_unless_configured(client: FlaskClient) -> None:
    body = marked_request()
    body["prefetch"] = {}
    body["fhirServer"] = "http://127.0.0.1:9/fhir"
    assert_error(post(client, body), 400, where="fhirServer")


@pytest.mark.parametrize("service", SERVICES)
def test_http_fhir_server_with_everything_prefetched_is_answered(
    client: FlaskClient, service: str
) -> None:
    # The CDS Hooks sandbox always sends fhirServer (http://127.0.0.1 in a local set-up);
    # with nothing left to fetch the server is never called, so it is not judged either.
    body = marked_request(service)
    body["fhirServer"] = "http://127.0.0.1:9/fhir"
    response = post(client, body, service)
    assert response.status_code == 200, response.get_json()
    assert isinstance(response.get_json()["cards"], list)


# --- 404, 405, 415, 413 -------------------------------------------------------------------


def test_unknown_service_is_404(client: FlaskClient) -> None:
    response = post(client, marked_request(), service=f"nope-{MARK}")
    assert_error(response, 404)


@pytest.mark.parametrize("path", ["/nothing", "/cds-services/a/b/c", f"/{MARK}"])
def test_unknown_path_is_404(client: FlaskClient, path: str) -> None:
    assert_error(client.get(path), 404)


def test_get_on_a_post_route_is_405(client: FlaskClient) -> None:
    response = client.get(f"/cds-services/{DISCHARGE}")
    assert_error(response, 405)
    assert "POST" in response.headers.get("Allow", "")


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_405(client: FlaskClient, method: str) -> None:
    response = getattr(client, method)("/cds-services")
    assert_error(response, 405)
    assert "GET" in response.headers.get("Allow", "")


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (json.dumps(marked_request()), "text/plain"),
        ("hook=encounter-discharge&context=x", "application/x-www-form-urlencoded"),
        (b"<Bundle/>", "application/xml"),
        (json.dumps(marked_request()), None),
    ],
    ids=["text-plain", "form", "xml", "no-content-type"],
)
def test_body_that_is_not_json_is_415(
    client: FlaskClient, data: Any, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = client.post(f"/cds-services/{DISCHARGE}", data=data, headers=headers)
    assert_error(response, 415, where="Content-Type")


def test_fhir_json_content_type_is_accepted(client: FlaskClient) -> None:
    response = client.post(
        f"/cds-services/{DISCHARGE}",
        data=json.dumps(marked_request()),
        content_type="application/fhir+json; charset=utf-8",
    )
    assert response.status_code == 200


def test_multipart_form_is_415(client: FlaskClient) -> None:
    response = client.post(
        f"/cds-services/{DISCHARGE}", data={"hook": "encounter-discharge", "context": "{}"}
    )
    assert_error(response, 415)


def _padded(size: int) -> bytes:
    body = marked_request()
    raw = json.dumps(body).encode()
    body["context"]["padding"] = "x" * (size - len(raw))
    raw = json.dumps(body).encode()
    assert len(raw) >= size
    return raw


def test_body_over_the_configured_limit_is_413(tmp_path: Path) -> None:
    with app_for(tmp_path, max_body_bytes=4096) as app:
        client = app.test_client()
        response = client.post(
            f"/cds-services/{DISCHARGE}", data=_padded(5000), content_type="application/json"
        )
        assert_error(response, 413, says="4096")
        # just under the limit is fine (a small request fits)
        small = hook_request(ORDER_SIGN, seed=1, n_conditions=0, n_charge_items=0)
        del small["prefetch"]
        raw = json.dumps(small).encode()
        assert len(raw) < 4096
        ok = client.post(f"/cds-services/{ORDER_SIGN}", data=raw, content_type="application/json")
        assert ok.status_code == 200, ok.get_json()


def test_body_over_the_default_5_mb_is_413(client: FlaskClient) -> None:
    response = client.post(
        f"/cds-services/{DISCHARGE}",
        data=_padded(6 * 1024 * 1024),
        content_type="application/json",
    )
    assert_error(response, 413, says=str(5 * 1024 * 1024))


def test_chunked_body_over_the_limit_is_413(tmp_path: Path) -> None:
    """No Content-Length: the limit holds while reading the stream."""
    with app_for(tmp_path, max_body_bytes=4096) as app:
        response = app.test_client().post(
            f"/cds-services/{DISCHARGE}",
            input_stream=io.BytesIO(_padded(8000)),
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},  # as gunicorn sets it
        )
        assert_error(response, 413)


# --- 422: prefetch and context resources that are not valid FHIR ------------------------


@pytest.fixture
def strict_client(tmp_path: Path) -> Iterator[FlaskClient]:
    """A service with ``fhir.strict = true``: every resource that is not valid R4 is a 422."""
    with app_for(tmp_path / "strict", fhir={"strict": True}) as app:
        yield app.test_client()


_UNREAD = {"unknown-element", "bad-bool"}  # elements no rule reads (lenient: answered)


@pytest.mark.parametrize(
    ("key", "mutate", "element"),
    [
        ("encounter", lambda r: r.__setitem__("status", 5), "Encounter.status"),
        ("encounter", lambda r: r.__setitem__("period", MARK), "Encounter.period"),
        ("encounter", lambda r: r.__setitem__(f"color{MARK[:3]}", "red"), "Encounter.colorzqx"),
        ("patient", lambda r: r.__setitem__("birthDate", f"{MARK}-01-01"), "Patient.birthDate"),
        ("patient", lambda r: r.__setitem__("active", "yes" + MARK), "Patient.active"),
        ("encounter", lambda r: r.__setitem__("resourceType", f"Encounte{MARK}"), "resourceType"),
    ],
    ids=["wrong-type", "object-expected", "unknown-element", "bad-date", "bad-bool", "bad-type"],
)
def test_invalid_prefetch_resource_is_422(
    strict_client: FlaskClient,
    client: FlaskClient,
    request: pytest.FixtureRequest,
    key: str,
    mutate: Callable[[Json], None],
    element: str,
) -> None:
    body = marked_request()
    mutate(body["prefetch"][key])
    issues = assert_error(post(strict_client, body), 422, where=f"prefetch.{key}")
    assert any(
        f"prefetch.{key}" in issue["diagnostics"] and element in issue["diagnostics"]
        for issue in issues
    ), issues
    lenient = post(client, body)
    if request.node.callspec.id in _UNREAD:
        assert_read_leniently(lenient, f"prefetch.{key}", element)
    else:  # an element the rules read: refused in either mode
        assert_error(lenient, 422, where=f"prefetch.{key}")


def assert_read_leniently(response: TestResponse, where: str, element: str) -> None:
    """200 with cards, and a note naming where and the element ignored, never the value."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert MARK not in response.get_data(as_text=True)
    (note,) = response.get_json()["extension"]["org.injectioncds.lenient-reading"]
    assert note["where"] == where and note["ignored"] == [element]


def test_invalid_resource_in_a_prefetch_bundle_names_the_entry(
    strict_client: FlaskClient, client: FlaskClient
) -> None:
    body = marked_request()
    body["prefetch"]["conditions"]["entry"][0]["resource"]["onsetDateTime"] = MARK
    issues = assert_error(post(strict_client, body), 422, where="prefetch.conditions.entry[0]")
    assert any("Condition.onsetDateTime" in i["diagnostics"] for i in issues), issues
    assert_read_leniently(
        post(client, body), "prefetch.conditions.entry[0].resource", "Condition.onsetDateTime"
    )


@pytest.mark.parametrize("value", ["text", 3, [1], [{"resourceType": "Patient"}]])
def test_prefetch_value_that_is_not_a_resource_is_422(client: FlaskClient, value: Any) -> None:
    body = marked_request()
    body["prefetch"]["encounter"] = value
    assert_error(post(client, body), 422, where="prefetch.encounter")


def test_prefetch_resource_without_resource_type_is_422(client: FlaskClient) -> None:
    body = marked_request()
    del body["prefetch"]["patient"]["resourceType"]
    assert_error(post(client, body), 422, where="prefetch.patient")


def test_invalid_context_resource_is_422(client: FlaskClient) -> None:
    body = marked_request(CHARTING)
    entry = body["context"]["medicationAdministrations"]["entry"][0]
    entry["resource"]["dosage"] = {"route": MARK}
    issues = assert_error(
        post(client, body, CHARTING), 422, where="context.medicationAdministrations"
    )
    assert any("MedicationAdministration.dosage" in i["diagnostics"] for i in issues), issues


def test_context_bundle_that_is_not_a_bundle_is_422(client: FlaskClient) -> None:
    body = marked_request(ORDER_SIGN)
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "entry": MARK}
    assert_error(post(client, body, ORDER_SIGN), 422)


# --- 412 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["encounter", "conditions", "medicationAdministrations"])
def test_required_prefetch_absent_without_fhir_server_is_412(client: FlaskClient, key: str) -> None:
    body = marked_request()
    del body["prefetch"][key]
    assert_error(post(client, body), 412, where=f"prefetch.{key}")


def test_required_prefetch_as_operation_outcome_without_fhir_server_is_412(
    client: FlaskClient,
) -> None:
    body = marked_request()
    body["prefetch"]["encounter"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout", "diagnostics": MARK}],
    }
    assert_error(post(client, body), 412, where="prefetch.encounter")


def test_optional_prefetch_absent_is_fine(client: FlaskClient) -> None:
    body = marked_request()
    for key in ("coverage", "chargeItems", "patient"):
        del body["prefetch"][key]
    assert post(client, body).status_code == 200


def test_no_prefetch_at_all_is_412_for_discharge_and_fine_for_order_sign(
    client: FlaskClient,
) -> None:
    body = marked_request()
    del body["prefetch"]
    assert_error(post(client, body), 412)
    order = marked_request(ORDER_SIGN)
    del order["prefetch"]
    assert post(client, order, ORDER_SIGN).status_code == 200


# --- other pages --------------------------------------------------------------------------


def test_unknown_rule_page_is_404(client: FlaskClient) -> None:
    assert_error(client.get("/rules/NOPE999"), 404, where="code")


# --- fuzz: no input yields 500 ------------------------------------------------------------

_ODD_VALUES: list[Any] = [
    None,
    "",
    MARK,
    0,
    -1,
    2**70,
    1e308,
    True,
    [],
    {},
    [None],
    {"resourceType": MARK},
    {"resourceType": "Bundle", "entry": [None]},
    {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "id": 5}}]},
    {"resourceType": "OperationOutcome"},
    "x" * 300,
    "\u0000\ud7ff",
    {"reference": MARK},
    [{"resourceType": "Encounter"}],
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _mutate(body: Json, rng: random.Random) -> Json:
    mutated = copy.deepcopy(body)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(mutated) if p]
        path = rng.choice(paths)
        parent: Any = mutated
        for part in path[:-1]:
            parent = parent[part]
        action = rng.random()
        if action < 0.3 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action < 0.4 and isinstance(parent, dict):
            parent[f"extra{rng.randint(0, 9)}"] = rng.choice(_ODD_VALUES)
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(_ODD_VALUES))
    return mutated


def test_fuzzed_requests_never_yield_500(client: FlaskClient) -> None:
    rng = random.Random(20240601)
    statuses: dict[int, int] = {}
    for round_ in range(400):
        service = SERVICES[round_ % 3]
        body = _mutate(marked_request(service, seed=round_ % 7), rng)
        response = post(client, body, service)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (round_, response.get_data(as_text=True))
        if response.status_code != 200:
            assert_error(response, response.status_code)
    assert {200, 400, 422} <= set(statuses), statuses


def test_fuzzed_raw_bytes_never_yield_500(client: FlaskClient) -> None:
    rng = random.Random(7)
    raw = json.dumps(marked_request()).encode()
    for _ in range(300):
        data = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            position = rng.randrange(len(data))
            data[position] = rng.randrange(256)
        response = client.post(
            f"/cds-services/{DISCHARGE}", data=bytes(data), content_type="application/json"
        )
        assert response.status_code < 500, response.get_data(as_text=True)
