"""A real ``injection-cds serve`` process for end-to-end tests: wait until healthy, stop."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import requests


def wait_until_healthy(
    process: subprocess.Popen[bytes], base: str, log_path: Path, timeout: float = 60
) -> None:
    """Poll ``/healthz`` until it answers 200; fail with the server's log if it dies or stalls."""
    deadline = time.monotonic() + timeout
    with requests.Session() as session:
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if session.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, (
                f"not healthy in {timeout} s\n{log_path.read_text()}"
            )
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """SIGTERM, as an operator stops gunicorn; SIGKILL after ``timeout``. The exit code."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
