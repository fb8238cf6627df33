"""End to end: ``injection-cds serve`` as a real process on a free port, called over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from server_process import stop, wait_until_healthy

from injection_cds.devtools.synthetic import SERVICE_HOOKS, hook_request

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def console_script() -> str:
    script = Path(sys.executable).parent / "injection-cds"
    assert script.exists(), script
    return str(script)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    instance = tmp_path_factory.mktemp("instance")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INJECTION_CDS_")}
    env["INJECTION_CDS_INSTANCE_DIR"] = str(instance)
    log = (instance / "server.log").open("wb")
    process = subprocess.Popen(
        [console_script(), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base, instance / "server.log")
        yield base
    finally:
        try:
            code = stop(process)
        finally:
            log.close()
        output = (instance / "server.log").read_text()
        assert code == 0, output
        assert "Traceback" not in output, output


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def test_discovery(server: str, http: requests.Session) -> None:
    response = http.get(f"{server}/cds-services", timeout=10)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    services = {s["id"]: s["hook"] for s in response.json()["services"]}
    assert services == SERVICE_HOOKS


@pytest.mark.parametrize("service_id", sorted(SERVICE_HOOKS))
def test_each_service_answers_with_cards(
    server: str, http: requests.Session, service_id: str
) -> None:
    body = hook_request(service_id, seed=5, n_administrations=2, gap_rate=0.9)
    response = http.post(f"{server}/cds-services/{service_id}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert cards, "gaps at 90% give at least one card"
    for card in cards:
        assert card["summary"] and len(card["summary"]) < 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"]
        assert card["source"]["url"].startswith(server + "/rules/")
    # the rule page the card links to is served
    page = http.get(cards[0]["source"]["url"], timeout=10)
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]


def test_same_request_same_cards_on_any_worker(server: str, http: requests.Session) -> None:
    body = hook_request("injection-discharge", seed=6, gap_rate=0.8)
    answers = [
        http.post(f"{server}/cds-services/injection-discharge", json=body, timeout=30).json()
        for _ in range(6)
    ]
    assert all(answer == answers[0] for answer in answers)


def test_bad_request_is_400(server: str, http: requests.Session) -> None:
    response = http.post(
        f"{server}/cds-services/injection-discharge",
        data=b'{"hook": ',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    assert response.json()["resourceType"] == "OperationOutcome"


def test_unknown_service_is_404(server: str, http: requests.Session) -> None:
    body = hook_request("injection-discharge", seed=1)
    response = http.post(f"{server}/cds-services/no-such-service", json=body, timeout=10)
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_missing_prefetch_is_412(server: str, http: requests.Session) -> None:
    body = hook_request("injection-discharge", seed=1)
    del body["prefetch"]["encounter"]
    response = http.post(f"{server}/cds-services/injection-discharge", json=body, timeout=10)
    assert response.status_code == 412


def test_preflight(server: str, http: requests.Session) -> None:
    response = http.options(
        f"{server}/cds-services/injection-discharge",
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
        timeout=10,
    )
    assert response.status_code in (200, 204)
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()
