"""CORS for browser-based EHRs and the CDS Hooks sandbox: Authorization is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from injection_cds.devtools.synthetic import hook_request

try:  # tests/ is on sys.path, or tests is a package (tests/__init__.py)
    from cds_test_support import app_for
except ImportError:  # pragma: no cover
    from tests.cds_test_support import app_for

ORIGIN = "https://sandbox.cds-hooks.org"


def _tokens(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


@pytest.mark.parametrize(
    "path", ["/cds-services", "/cds-services/injection-discharge", "/cds-services/nope"]
)
def test_preflight_allows_authorization_and_content_type(client: FlaskClient, path: str) -> None:
    response = client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert 200 <= response.status_code < 300
    assert response.headers["Access-Control-Allow-Origin"] in ("*", ORIGIN)
    assert {"authorization", "content-type"} <= _tokens(
        response.headers.get("Access-Control-Allow-Headers")
    )
    assert {"get", "post"} <= _tokens(response.headers.get("Access-Control-Allow-Methods"))
    assert int(response.headers["Access-Control-Max-Age"]) > 0


def test_headers_on_discovery(client: FlaskClient) -> None:
    response = client.get("/cds-services", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_headers_on_a_service_call(client: FlaskClient) -> None:
    response = client.post(
        "/cds-services/injection-discharge",
        json=hook_request("injection-discharge", seed=1),
        headers={"Origin": ORIGIN, "Authorization": "Bearer x.y.z"},
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("post", "/cds-services/nope", 404), ("get", "/cds-services/injection-discharge", 405)],
)
def test_headers_on_errors(client: FlaskClient, method: str, path: str, status: int) -> None:
    response = getattr(client, method)(path, json={}, headers={"Origin": ORIGIN})
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_headers_on_bad_json(client: FlaskClient) -> None:
    response = client.post(
        "/cds-services/injection-discharge",
        data=b"{",
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_configured_origin_varies_on_origin(tmp_path: Path) -> None:
    with app_for(tmp_path, cors_allow_origin=ORIGIN) as app:
        response = app.test_client().get("/cds-services", headers={"Origin": ORIGIN})
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "Origin" in response.headers.get("Vary", "")
