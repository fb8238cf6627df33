"""The real server (``injection-cds serve``) against misbehaving peers on loopback (issue 13).

Every test is bounded: each server start, request and peer has a timeout, and the budgets
the assertions use are the ones written into the server's configuration.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
from misbehaving_peers import (
    CLI,
    HttpPeer,
    LiveServer,
    StallableProxy,
    StallingServer,
    live_server,
    server_env,
    write_toml,
)
from sqlalchemy.engine import make_url

from injection_cds.web.server import HEADER_SECONDS, HeaderDeadlines

pytest_plugins = ["storage_fixtures"]

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "examples" / "charting-ceftriaxone.json"
CHARTING = "injection-charting"
WHEN = "2026-03-01T12:05:00Z"

# The budgets written into the servers' configuration, which the assertions use.
REQUEST_BUDGET = 1.5  # budget.request_seconds
FETCH_BUDGET = 1.0  # fhir.fetch_budget_seconds
DB_WAIT = 0.25  # database.request_wait_seconds
MAX_RESPONSE = 1024 * 1024  # fhir.max_response_bytes


def _request() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return body


def _timed_post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[Any, float]:
    started = time.monotonic()
    response = requests.post(url, json=body, headers=headers or {}, timeout=30)
    return response, time.monotonic() - started


# --- the database ------------------------------------------------------------------------


def test_stalled_postgres_at_start_up_stops_serve_with_one_line(tmp_path: Path) -> None:
    stall = StallingServer()
    try:
        url = f"postgresql+psycopg://cds@127.0.0.1:{stall.port}/cds"
        config = write_toml(
            tmp_path / "config.toml",
            {"database_url": url, "database": {"connect_timeout_seconds": 2}},
        )
        started = time.monotonic()
        done = subprocess.run(
            [CLI, "serve", "--port", "0", "--config", str(config)],
            env=server_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
    finally:
        stall.close()
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, done.stderr
    assert "cannot open the ledger database" in lines[0]
    assert "Traceback" not in done.stderr
    assert elapsed < 20, elapsed  # the 2 s connect timeout, plus the interpreter's start


@pytest.fixture
def postgres_proxy(postgres_url: str) -> Iterator[tuple[StallableProxy, str]]:
    """A proxy to a private PostgreSQL schema, and the URL through it."""
    parsed = make_url(postgres_url)
    proxy = StallableProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    try:
        through = parsed.set(host="127.0.0.1", port=proxy.port)
        yield proxy, through.render_as_string(hide_password=False)
    finally:
        proxy.close()


@pytest.mark.postgres
def test_stalled_postgres_at_run_time_cards_within_the_budget(
    tmp_path: Path, postgres_proxy: tuple[StallableProxy, str], jwt_kit: Any
) -> None:
    proxy, url = postgres_proxy
    config = {
        "database_url": url,
        "budget": {"request_seconds": REQUEST_BUDGET},
        "database": {"request_wait_seconds": DB_WAIT, "retry_seconds": 2.0, "stall_seconds": 1.0},
        "auth": jwt_kit.auth_config(),
    }
    with live_server(tmp_path, config, workers=1) as server:
        service_url = f"{server.base}/cds-services/{CHARTING}"

        def bearer(token: str | None = None) -> dict[str, str]:
            return {"Authorization": f"Bearer {token or jwt_kit.token(service_url)}"}

        healthy, _ = _timed_post(service_url, _request(), bearer())
        assert healthy.status_code == 200
        assert requests.get(f"{server.base}/readyz", timeout=5).status_code == 200

        proxy.stall()  # PostgreSQL stops answering, connections stay open
        latencies = []
        for _ in range(6):
            response, elapsed = _timed_post(service_url, _request(), bearer())
            assert response.status_code == 200, response.text
            assert response.json()["cards"], "cards are answered without the ledger"
            latencies.append(elapsed)
        assert max(latencies) < REQUEST_BUDGET, latencies

        # The replay check falls back to this process's cache: a replay is still refused.
        token = jwt_kit.token(service_url)
        assert _timed_post(service_url, _request(), bearer(token))[0].status_code == 200
        replay, elapsed = _timed_post(service_url, _request(), bearer(token))
        assert replay.status_code == 401 and elapsed < REQUEST_BUDGET

        started = time.monotonic()
        health = requests.get(f"{server.base}/healthz", timeout=5)
        assert health.status_code == 200 and time.monotonic() - started < 1.0
        assert health.json()["database"]["state"] == "down"
        ready = requests.get(f"{server.base}/readyz", timeout=5)
        assert ready.status_code == 503
        assert ready.json()["database"]["unavailableCalls"]["ledger"] >= 1

        item = {"card": "c-1", "outcome": "overridden", "outcomeTimestamp": WHEN}
        started = time.monotonic()
        feedback_url = f"{service_url}/feedback"
        feedback = requests.post(
            feedback_url, json=item, headers=bearer(jwt_kit.token(feedback_url)), timeout=30
        )
        assert feedback.status_code == 503, feedback.text
        assert feedback.headers["Content-Type"].startswith("application/fhir+json")
        assert feedback.headers["Retry-After"]
        assert time.monotonic() - started < 10  # the feedback wait (5 s), never a hang
    log = server.log()
    assert re.search(r"database unavailable \(.+, during (ledger|replay)\)", log), log[-3000:]
    assert "card ledger write skipped" in log
    assert "JWT replay check degraded to this process's cache" in log


# --- the FHIR server ---------------------------------------------------------------------


class _Peers:
    """FHIR servers that trickle, flood or hang (paths under /fhir)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.sent = 0

        def trickle(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/fhir+json")
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            while not self.stop.wait(0.3):  # one byte every 0.3 s, for ever
                handler.wfile.write(b" ")
                handler.wfile.flush()

        def flood(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/fhir+json")
            handler.send_header("Connection", "close")  # no length: read until closed
            handler.end_headers()
            chunk = b" " * 65536
            for _ in range(200 * 16):  # 200 MB
                if self.stop.is_set():
                    return
                handler.wfile.write(chunk)
                self.sent += len(chunk)

        def hang(handler: BaseHTTPRequestHandler) -> None:
            if "/Encounter/" in handler.path or "/Condition" in handler.path:
                body = {"resourceType": "Bundle", "type": "searchset", "entry": []}
                if "/Encounter/" in handler.path:
                    body = _request()["prefetch"]["encounter"]
                raw = json.dumps(body).encode()
                handler.send_response(200)
                handler.send_header("Content-Type", "application/fhir+json")
                handler.send_header("Content-Length", str(len(raw)))
                handler.end_headers()
                handler.wfile.write(raw)
                return
            self.stop.wait(20)  # the optional keys: no answer

        self.trickle = HttpPeer(trickle)
        self.flood = HttpPeer(flood)
        self.hang = HttpPeer(hang)

    def close(self) -> None:
        self.stop.set()
        for peer in (self.trickle, self.flood, self.hang):
            peer.close()


@pytest.fixture(scope="module")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    config = {
        "budget": {"request_seconds": REQUEST_BUDGET},
        "fhir": {
            "allow_http_loopback": True,
            "fetch_budget_seconds": FETCH_BUDGET,
            "read_timeout": 5.0,
            "max_response_bytes": MAX_RESPONSE,
        },
    }
    with live_server(tmp_path_factory.mktemp("fhir"), config) as server:
        yield server


@pytest.fixture(scope="module")
def peers() -> Iterator[_Peers]:
    with closing(_Peers()) as made:
        yield made


def _needs(keys: tuple[str, ...], server: str) -> dict[str, Any]:
    body = _request()
    for key in keys:
        body["prefetch"].pop(key)
    body["fhirServer"] = server
    return body


def test_trickling_fhir_server_is_412_within_the_budget(
    fhir_server: LiveServer, peers: _Peers
) -> None:
    url = f"{fhir_server.base}/cds-services/{CHARTING}"
    response, elapsed = _timed_post(url, _needs(("encounter",), peers.trickle.base))
    assert response.status_code == 412
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    assert elapsed < REQUEST_BUDGET, elapsed


def test_huge_fhir_response_is_refused_at_the_size_cap(
    fhir_server: LiveServer, peers: _Peers
) -> None:
    url = f"{fhir_server.base}/cds-services/{CHARTING}"
    response, elapsed = _timed_post(url, _needs(("encounter",), peers.flood.base))
    assert response.status_code == 412
    assert "bytes" in response.json()["issue"][0]["diagnostics"]
    assert elapsed < REQUEST_BUDGET, elapsed
    time.sleep(0.5)
    # The service stopped reading at the cap: the peer could not push its 200 MB.
    assert peers.sent < 50 * MAX_RESPONSE, peers.sent


def test_hanging_optional_keys_are_dropped_with_a_note_within_the_budget(
    fhir_server: LiveServer, peers: _Peers
) -> None:
    url = f"{fhir_server.base}/cds-services/{CHARTING}"
    optional = ("coverage", "chargeItems", "patient")
    response, elapsed = _timed_post(url, _needs(("encounter", *optional), peers.hang.base))
    optional += ("medicationRequests",)  # not in the example request either: fetched too
    assert response.status_code == 200, response.text
    assert response.json()["cards"]
    notes = response.json()["extension"]["org.injectioncds.notes"]
    assert sorted(re.findall(r"key '(\w+)'", " ".join(notes))) == sorted(optional)
    # One deadline for all keys, fetched in parallel (not 3 keys x the read timeout).
    assert elapsed < REQUEST_BUDGET, elapsed


# --- slow clients and the server stack's own errors ----------------------------------------


def _slow_client(port: int, stop: threading.Event) -> None:
    """Sends a request's headers one byte a second (a slow or hostile client)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for byte in b"POST /cds-services/injection-charting HTTP/1.1\r\nHost: 127.0.0.1\r\n":
            if stop.wait(1.0):
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return


def test_slow_clients_do_not_pin_the_workers(fhir_server: LiveServer) -> None:
    port = int(fhir_server.base.rsplit(":", 1)[1])
    stop = threading.Event()
    clients = [threading.Thread(target=_slow_client, args=(port, stop)) for _ in range(12)]
    for client in clients:
        client.start()
    try:
        time.sleep(2.0)  # every slow client is connected and dribbling
        latencies = []
        for _ in range(5):
            started = time.monotonic()
            assert requests.get(f"{fhir_server.base}/healthz", timeout=5).status_code == 200
            latencies.append(time.monotonic() - started)
        response, elapsed = _timed_post(f"{fhir_server.base}/cds-services/{CHARTING}", _request())
        assert response.status_code == 200
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=5)
    assert max(latencies) < 1.0, latencies
    assert elapsed < REQUEST_BUDGET


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock


def test_header_deadlines_cut_only_the_connections_past_theirs() -> None:
    deadlines = HeaderDeadlines(seconds=10)
    late_server, late_client = socket.socketpair()
    done_server, done_client = socket.socketpair()
    with late_server, late_client, done_server, done_client:
        late, finished = _Conn(late_server), _Conn(done_server)
        deadlines.start(late)
        deadlines.start(finished)
        deadlines.done(finished)
        assert deadlines.cut_expired(time.monotonic() + 9) == 0
        assert deadlines.cut_expired(time.monotonic() + 11) == 1
        assert late_client.recv(1) == b""  # cut: the peer reads end of stream
        done_client.setblocking(False)
        with pytest.raises(BlockingIOError):  # still open, nothing to read
            done_client.recv(1)
        assert deadlines.cut_expired(time.monotonic() + 60) == 0  # cut once


def test_a_client_dribbling_its_headers_is_cut_at_the_deadline(fhir_server: LiveServer) -> None:
    port = int(fhir_server.base.rsplit(":", 1)[1])
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=HEADER_SECONDS + 5) as sock:
        sock.settimeout(0.5)
        for byte in b"POST /cds-services/injection-charting HTTP/1.1\r\nHost: x\r\n" * 4:
            try:
                sock.sendall(bytes([byte]))
                if sock.recv(1) == b"":
                    break  # the server closed the connection
            except TimeoutError:
                continue  # still open: one more byte, half a second later
            except OSError:
                break
        else:
            pytest.fail("the connection was never cut")
    elapsed = time.monotonic() - started
    assert HEADER_SECONDS <= elapsed < HEADER_SECONDS + 3, elapsed


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414),
        (b"GET /<script> HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 400),
        (b"\x16\x03\x01garbage\r\n\r\n", 400),
    ],
)
def test_the_server_stacks_own_errors_are_operation_outcomes(
    fhir_server: LiveServer, request_bytes: bytes, status: int
) -> None:
    port = int(fhir_server.base.rsplit(":", 1)[1])
    answer = _raw(port, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == str(status).encode()
    assert b"Content-Type: application/fhir+json" in head
    outcome = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    assert b"script" not in body and b"aaaa" not in body
