"""End to end: 4 gunicorn workers, concurrent feedback over real HTTP, every row stored."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from server_process import wait_until_healthy

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
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as sink:
        server = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        # 60 s, not 10: four workers booting on a loaded 2-core machine took longer.
        wait_until_healthy(server, base, log_path)

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
        assert sorted(r["card_uuid"] for r in store.queries.feedback_rows()) == sorted(
            f"card-{n}" for n in range(POSTS)
        )
    finally:
        store.close()
