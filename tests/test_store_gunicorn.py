"""End to end: 4 gunicorn workers, concurrent feedback over real HTTP, every row stored."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from injection_cds.store.ledger import Store

SERVICE = "injection-charting"
POSTS = 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_four_gunicorn_workers_lose_no_feedback(tmp_path: Path) -> None:
    port = _free_port()
    env = dict(os.environ)
    env.update(
        {
            "INJECTION_CDS_INSTANCE_DIR": str(tmp_path / "instance"),
            "INJECTION_CDS_HASH_KEY": "gunicorn-test-hash-key-0123456789",
            "INJECTION_CDS_LOG_LEVEL": "WARNING",
        }
    )
    executable = str(Path(sys.executable).parent / "injection-cds")
    command = [executable, "serve", "--port", str(port), "--workers", "4"]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with requests.Session() as session:
            for _ in range(100):
                try:
                    if session.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    time.sleep(0.1)
            else:
                pytest.fail("gunicorn did not start")

            def post(n: int) -> int:
                item = {
                    "card": f"card-{n}",
                    "outcome": "overridden",
                    "outcomeTimestamp": "2026-01-01T00:00:00Z",
                }
                with requests.Session() as own:
                    return own.post(
                        f"{base}/cds-services/{SERVICE}/feedback", json=item, timeout=30
                    ).status_code

            with ThreadPoolExecutor(max_workers=16) as pool:
                statuses = list(pool.map(post, range(POSTS)))
        assert statuses == [200] * POSTS
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    store = Store.from_url(f"sqlite:///{tmp_path / 'instance' / 'injection-cds.sqlite3'}", None)
    try:
        assert sorted(r["card_uuid"] for r in store.feedback_rows()) == sorted(
            f"card-{n}" for n in range(POSTS)
        )
    finally:
        store.close()
