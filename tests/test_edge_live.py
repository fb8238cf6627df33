"""What real clients send, against the real server (``injection-cds serve``) on loopback.

Edge cases an EHR integrator or an operator hits: timestamps at the ends of the calendar,
bodies in a content coding, charted text with controls. Each gets a clear answer (an
OperationOutcome 4xx), never a 500 or a 503 that would make the client retry for ever.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cds_test_support import operation_outcome_issues
from misbehaving_peers import CLI, LiveServer, live_server, server_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "examples" / "charting-ceftriaxone.json"
CHARTING = "injection-charting"

# Valid RFC 3339 date-times whose UTC instant falls outside years 1..9999.
OUT_OF_RANGE_IN_UTC = ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("edge"), {}, workers=1) as started:
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
