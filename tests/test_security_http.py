"""The JWT check over HTTP: 401 OperationOutcomes that say why, never echoing the token."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest_plugins = ["storage_fixtures"]

FIXTURE = Path(__file__).parent.parent / "fixtures/golden/order-sign/complete_order.request.json"
BASE = "http://localhost"
SERVICE_URL = f"{BASE}/cds-services/injection-order-sign"


def _call(client, token: str | None, url: str = SERVICE_URL, remote: str = "203.0.113.7"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = json.loads(FIXTURE.read_text())
    return client.post(
        url.removeprefix(BASE), json=body, headers=headers, environ_base={"REMOTE_ADDR": remote}
    )


@pytest.fixture
def client(tmp_path: Path, jwt_kit, make_app):
    with make_app(tmp_path, auth=jwt_kit.auth_config()) as app:
        yield app.test_client()


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
def test_accepted_over_http(client, jwt_kit, alg: str) -> None:
    response = _call(client, jwt_kit.token(SERVICE_URL, alg))
    assert response.status_code == 200, response.json
    assert "cards" in response.json


def test_feedback_needs_its_own_audience(client, jwt_kit) -> None:
    url = f"{SERVICE_URL}/feedback"
    item = {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-01-01T00:00:00Z"}
    wrong = client.post(
        url.removeprefix(BASE),
        json=item,
        headers={"Authorization": f"Bearer {jwt_kit.token(SERVICE_URL)}"},
    )
    assert wrong.status_code == 401
    right = client.post(
        url.removeprefix(BASE), json=item, headers={"Authorization": f"Bearer {jwt_kit.token(url)}"}
    )
    assert right.status_code == 200


def _refused(client, token: str | None, words: str, **kwargs) -> None:
    response = _call(client, token, **kwargs)
    assert response.status_code == 401
    assert response.mimetype == "application/fhir+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    outcome = response.json
    assert outcome["resourceType"] == "OperationOutcome"
    assert words in outcome["issue"][0]["diagnostics"]
    if token:
        for part in token.split("."):
            assert part not in response.get_data(as_text=True)


def test_refusals_over_http(client, jwt_kit) -> None:
    now = int(time.time())
    _refused(client, None, "missing")
    _refused(client, jwt_kit.token(SERVICE_URL, iat=now - 900, exp=now - 600), "expired")
    _refused(client, jwt_kit.token(f"{BASE}/cds-services/other"), "aud")
    _refused(client, jwt_kit.token(SERVICE_URL, iss="https://evil.example.org"), "issuer")
    tampered = jwt_kit.token(SERVICE_URL)
    head, body, signature = tampered.split(".")
    other_signature = jwt_kit.token(SERVICE_URL).split(".")[2]
    _refused(client, f"{head}.{body}.{other_signature}", "signature")
    replayed = jwt_kit.token(SERVICE_URL)
    assert _call(client, replayed).status_code == 200
    _refused(client, replayed, "replay")


def test_discovery_needs_a_token_too(client, jwt_kit) -> None:
    assert client.get("/cds-services").status_code == 401
    token = jwt_kit.token(f"{BASE}/cds-services")
    ok = client.get("/cds-services", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200


def test_without_issuers_only_loopback(tmp_path: Path, make_app) -> None:
    with make_app(tmp_path) as app:
        client = app.test_client()
        assert _call(client, None, remote="127.0.0.1").status_code == 200
        _refused(client, None, "loopback", remote="198.51.100.4")
        assert (
            client.get("/healthz", environ_base={"REMOTE_ADDR": "198.51.100.4"}).status_code == 200
        )
