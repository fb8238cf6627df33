"""What real clients send, against the real server (``injection-cds serve``) on loopback.

Edge cases an EHR integrator or an operator hits: timestamps at the ends of the calendar,
bodies in a content coding, charted text with controls. Each gets a clear answer (an
OperationOutcome 4xx), never a 500 or a 503 that would make the client retry for ever.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cds_test_support import TOKEN, FhirStub, operation_outcome_issues
from misbehaving_peers import CLI, LiveServer, live_server, server_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "examples" / "charting-ceftriaxone.json"
CHARTING = "injection-charting"

# Valid RFC 3339 date-times whose UTC instant falls outside years 1..9999.
OUT_OF_RANGE_IN_UTC = ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    config = {"fhir": {"allow_http_loopback": True}}
    with live_server(tmp_path_factory.mktemp("edge"), config, workers=1) as started:
        yield started


def _charting() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return body


def _card_uuid(server: LiveServer) -> str:
    response = requests.post(f"{server.base}/cds-services/{CHARTING}", json=_charting(), timeout=30)
    assert response.status_code == 200, response.text
    uuid: str = response.json()["cards"][0]["uuid"]
    return uuid


# --- timestamps at the ends of the calendar ------------------------------------------------


@pytest.mark.parametrize("stamp", OUT_OF_RANGE_IN_UTC)
def test_feedback_timestamp_out_of_range_in_utc_is_400(server: LiveServer, stamp: str) -> None:
    """Not 503 'store unavailable, send again': the same body would fail for ever."""
    item = {"card": _card_uuid(server), "outcome": "overridden", "outcomeTimestamp": stamp}
    response = requests.post(
        f"{server.base}/cds-services/{CHARTING}/feedback", json={"feedback": [item]}, timeout=30
    )
    assert response.status_code == 400, response.text
    issues = operation_outcome_issues(response.json())
    assert issues[0]["expression"] == ["feedback[0].outcomeTimestamp"]
    assert stamp not in response.text
    assert requests.get(f"{server.base}/readyz", timeout=10).status_code == 200


@pytest.mark.parametrize("stamp", OUT_OF_RANGE_IN_UTC)
def test_analytics_since_out_of_range_in_utc_is_400(server: LiveServer, stamp: str) -> None:
    response = requests.get(f"{server.base}/analytics", params={"since": stamp}, timeout=30)
    assert response.status_code == 400, response.text
    assert operation_outcome_issues(response.json())[0]["expression"] == ["since"]


@pytest.mark.parametrize("stamp", OUT_OF_RANGE_IN_UTC)
def test_report_since_out_of_range_in_utc_is_one_line(tmp_path: Path, stamp: str) -> None:
    done = subprocess.run(
        [CLI, "report", "--since", stamp],
        env=server_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "--since" in done.stderr, done.stderr


# --- content codings and byte order marks ---------------------------------------------------


def _post_raw(server: LiveServer, data: bytes, **headers: str) -> requests.Response:
    return requests.post(
        f"{server.base}/cds-services/{CHARTING}",
        data=data,
        headers={"Content-Type": "application/json", **headers},
        timeout=30,
    )


def test_gzip_body_is_read(server: LiveServer) -> None:
    plain = _post_raw(server, json.dumps(_charting()).encode())
    zipped = _post_raw(
        server, gzip.compress(json.dumps(_charting()).encode()), **{"Content-Encoding": "gzip"}
    )
    assert zipped.status_code == 200, zipped.text
    assert zipped.json() == plain.json()


def test_gzip_body_over_the_limit_once_inflated_is_413(server: LiveServer) -> None:
    """A small gzip bomb: 50 kB on the wire, 50 MB inflated; refused at the 5 MB body limit."""
    bomb = gzip.compress(b'{"a": "' + b" " * 50_000_000 + b'"}', compresslevel=9)
    response = _post_raw(server, bomb, **{"Content-Encoding": "gzip"})
    assert response.status_code == 413, response.text
    assert operation_outcome_issues(response.json())[0]["code"] == "too-costly"


@pytest.mark.parametrize(
    "data", [b"not gzip at all", gzip.compress(b'{"hook": 1}')[:-12]], ids=["corrupt", "truncated"]
)
def test_corrupt_or_truncated_gzip_body_is_400(server: LiveServer, data: bytes) -> None:
    response = _post_raw(server, data, **{"Content-Encoding": "gzip"})
    assert response.status_code == 400, response.text
    assert "gzip" in operation_outcome_issues(response.json())[0]["diagnostics"]


@pytest.mark.parametrize("coding", ["br", "deflate", "compress", "gzip, br"])
def test_unsupported_content_coding_is_415(server: LiveServer, coding: str) -> None:
    """Never read as if it were plain JSON: a plain body labelled ``br`` is not answered."""
    response = _post_raw(server, json.dumps(_charting()).encode(), **{"Content-Encoding": coding})
    assert response.status_code == 415, response.text
    issue = operation_outcome_issues(response.json())[0]
    assert issue["expression"] == ["Content-Encoding"]


def test_identity_content_coding_is_plain(server: LiveServer) -> None:
    response = _post_raw(
        server, json.dumps(_charting()).encode(), **{"Content-Encoding": "identity"}
    )
    assert response.status_code == 200, response.text


def test_utf8_byte_order_mark_is_ignored(server: LiveServer) -> None:
    """RFC 8259 section 8.1: a parser MAY ignore a BOM; Windows clients send one."""
    response = _post_raw(server, b"\xef\xbb\xbf" + json.dumps(_charting()).encode())
    assert response.status_code == 200, response.text
    assert response.json()["cards"]


# --- ids that would change the path of a FHIR read ---------------------------------------


@pytest.mark.parametrize("field", ["encounterId", "patientId"])
@pytest.mark.parametrize("value", ["..", ".", "Encounter/", "Encounter/.."])
def test_context_id_that_is_a_dot_segment_is_400_and_fetches_nothing(
    server: LiveServer, field: str, value: str
) -> None:
    """``Encounter/..`` would read the FHIR server's root, ``Encounter/`` search every
    Encounter, with the EHR's token: the id is refused before anything is fetched."""
    body = _charting()
    body["context"][field] = value
    body["prefetch"] = {}
    with FhirStub() as stub:
        body["fhirServer"] = stub.base
        body["fhirAuthorization"] = {
            "access_token": TOKEN,
            "token_type": "Bearer",
            "expires_in": 30,
            "scope": "user/*.read",
            "subject": "injection-cds",
        }
        response = requests.post(f"{server.base}/cds-services/{CHARTING}", json=body, timeout=30)
    assert response.status_code == 400, response.text
    assert operation_outcome_issues(response.json())[0]["expression"] == [f"context.{field}"]
    assert stub.seen == []


# --- charted text in card markdown --------------------------------------------------------

# Bidirectional overrides, embeddings and isolates (the "Trojan Source" characters) and C1
# controls: charted text with one would reorder the service's own words after it on screen.
_HIDDEN_CONTROLS = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\x85\x9b"
)


def test_charted_text_cannot_reorder_or_hide_the_cards_words(server: LiveServer) -> None:
    body = _charting()
    medication = body["context"]["medicationAdministrations"]["entry"][0]["resource"]["contained"][
        0
    ]
    medication["code"]["text"] = "ceftriaxone\u202e 1 g" + _HIDDEN_CONTROLS + " injection"
    response = requests.post(f"{server.base}/cds-services/{CHARTING}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    details = [card.get("detail", "") for card in response.json()["cards"]]
    assert any("ceftriaxone" in detail for detail in details)
    for detail in details:
        assert not set(detail) & set(_HIDDEN_CONTROLS), detail


# --- a call too big to answer within the budget ---------------------------------------------

DISCHARGE_REQUEST = (
    ROOT / "fixtures" / "golden" / "encounter-discharge" / "mixed_visit.request.json"
)
REQUEST_BUDGET = 3.0  # budget.request_seconds, the default
MAX_RESOURCES = 2000  # budget.max_resources, the default


def _administration(number: int) -> dict[str, Any]:
    return {
        "resource": {
            "resourceType": "MedicationAdministration",
            "id": f"ma-{number}",
            "status": "completed",
            "medicationCodeableConcept": {
                "coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "0409-7332-01"}]
            },
            "subject": {"reference": "Patient/pat-1001"},
            "context": {"reference": "Encounter/enc-1001"},
            "effectiveDateTime": "2026-11-24T10:15:00-05:00",
        }
    }


def test_more_resources_than_the_budget_reads_is_413_at_once(server: LiveServer) -> None:
    """10,000 small administrations fit in 5 MB; reading them took 9 s and answered 30 MB."""
    body = json.loads(DISCHARGE_REQUEST.read_text(encoding="utf-8"))
    body["prefetch"]["medicationAdministrations"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [_administration(n) for n in range(10_000)],
    }
    started = time.monotonic()
    response = requests.post(
        f"{server.base}/cds-services/injection-discharge", json=body, timeout=60
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 413, response.text[:500]
    issue = operation_outcome_issues(response.json())[0]
    assert issue["code"] == "too-costly"
    assert str(MAX_RESOURCES) in issue["diagnostics"]
    assert elapsed < REQUEST_BUDGET


# --- the command line on files that are not what they should be ----------------------------

BAD_FILES = {
    "empty": b"",
    "binary": bytes(range(256)) * 8,
    "truncated": b'{"hook": ',
    "array": b"[]",
}


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        env=server_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


@pytest.mark.parametrize("name", ["binary", "truncated", "directory"])
def test_check_on_a_bad_file_is_one_line_and_nonzero(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.json"
    if name == "directory":
        path.mkdir()
    else:
        path.write_bytes(BAD_FILES[name])
    _one_line_error(_run(tmp_path, "check", str(path)))


@pytest.mark.parametrize("name", ["empty", "binary", "array"])
def test_audit_with_nothing_readable_is_one_line_and_nonzero(tmp_path: Path, name: str) -> None:
    """Every record skipped: a scheduled audit must not report success on nothing."""
    path = tmp_path / f"{name}.json"
    path.write_bytes(BAD_FILES[name])
    error = _one_line_error(_run(tmp_path, "audit", str(path), "--out", "out", "--workers", "1"))
    assert "nothing was audited" in error
    summary = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert summary["summary"]["skippedRecords"] == 1


def test_audit_of_an_empty_directory_is_one_line_and_nonzero(tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    error = _one_line_error(_run(tmp_path, "audit", "export", "--out", "out", "--workers", "1"))
    assert "nothing was audited" in error


def test_audit_reports_a_bundle_whose_entry_is_not_an_array(tmp_path: Path) -> None:
    """It was read as an empty Bundle: nothing audited, nothing skipped, exit 0."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": "x"}))
    _one_line_error(_run(tmp_path, "audit", str(path), "--out", "out", "--workers", "1"))
    findings = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert findings["summary"]["skippedRecords"] == 1
    assert findings["skipped"][0]["file"] == str(path)


def test_charted_urls_do_not_become_links_in_card_markdown(server: LiveServer) -> None:
    """GitHub Flavored Markdown links bare ``https://`` and ``www.`` text (its autolink
    extension): a drug name carrying a URL became a clickable link in the card."""
    body = _charting()
    medication = body["context"]["medicationAdministrations"]["entry"][0]["resource"]["contained"][
        0
    ]
    medication["code"]["text"] = "ceftriaxone see https://evil.example/pay or WWW.evil.example"
    response = requests.post(f"{server.base}/cds-services/{CHARTING}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    lines = [
        line
        for card in response.json()["cards"]
        for line in card.get("detail", "").splitlines()
        if "ceftriaxone see" in line
    ]
    assert lines
    for line in lines:
        assert "https\\://evil" in line, line  # an escaped colon: shown as "://", not linked
        assert "WWW\\.evil" in line, line


# --- a client that sends its headers and then stalls in the body ----------------------------

CUT_SECONDS = 10.0  # server.HEADER_SECONDS: the headers, and now the body, must be in by then


def test_a_body_that_stalls_is_cut_and_frees_its_thread(server: LiveServer) -> None:
    """Headers in at once, then 9 bytes of a 100,000-byte body and nothing more: the thread
    waited for the rest for ever (65 such clients left 2 workers of 32 threads no thread)."""
    stalled = []
    started = time.monotonic()
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(
            f"POST /cds-services/{CHARTING} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            '{"hook": '.encode()
        )
        stalled.append(sock)
    try:
        for sock in stalled:
            sock.settimeout(CUT_SECONDS + 15 - (time.monotonic() - started))
            try:
                while sock.recv(65536):  # a 400 or nothing, then the end of the connection
                    pass
            except ConnectionResetError:
                pass
        assert time.monotonic() - started < CUT_SECONDS + 15
    finally:
        for sock in stalled:
            sock.close()
    answered = requests.post(f"{server.base}/cds-services/{CHARTING}", json=_charting(), timeout=30)
    assert answered.status_code == 200
