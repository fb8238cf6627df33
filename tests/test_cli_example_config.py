"""Every CLI command that takes ``--config`` accepts the shipped config/example.toml.

Each runs in a fresh interpreter (a subprocess): the configuration schema must not depend on
what else happened to be imported first (issue 9, defect 2).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config" / "example.toml"
FIXTURE = ROOT / "fixtures" / "examples" / "charting-ceftriaxone.json"
CLI = str(Path(sys.executable).with_name("injection-cds"))


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INJECTION_CDS_")}
    env["INJECTION_CDS_INSTANCE_DIR"] = str(tmp_path / "instance")
    return env


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args, "--config", str(EXAMPLE)],
        env=_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_accepts_the_example_config(tmp_path: Path) -> None:
    done = _run(tmp_path, "check", str(FIXTURE), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout)["cards"], list)


def test_report_accepts_the_example_config(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    done = _run(tmp_path, "report", "--database-url", url, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rules"] == []


def test_audit_accepts_the_example_config(tmp_path: Path) -> None:
    body: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    resources = [*body["context"]["medicationAdministrations"]["entry"]]
    lines = [entry["resource"] for entry in resources]
    for value in filter(None, body["prefetch"].values()):
        if value.get("resourceType") == "Bundle":
            lines.extend(entry["resource"] for entry in value.get("entry", []))
        else:
            lines.append(value)
    source = tmp_path / "visit.ndjson"
    source.write_text("\n".join(json.dumps(r) for r in lines) + "\n", encoding="utf-8")
    done = _run(tmp_path, "audit", str(source), "--out", str(tmp_path / "out"), "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "worklist.csv").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_accepts_the_example_config(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [CLI, "serve", "--port", str(port), "--workers", "1", "--config", str(EXAMPLE)],
            env=_env(tmp_path),
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"serve exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            except requests.ConnectionError:
                time.sleep(0.2)
                continue
            assert answer.status_code == 200
            break
        else:
            pytest.fail("serve did not answer within 60 s")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_a_bad_config_is_one_line_without_a_doubled_prefix(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('no_such_key = 1\n[fhir]\nread_timeout = "slow"\n', encoding="utf-8")
    done = subprocess.run(
        [CLI, "check", str(FIXTURE), "--config", str(bad)],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "configuration: configuration" not in message
    assert message.startswith("Error: configuration: ")
