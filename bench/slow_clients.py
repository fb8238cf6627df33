"""The worker model under slow clients: gunicorn ``sync`` against ``gthread`` (issue 13).

    .venv/bin/python bench/slow_clients.py                  # both models, 0/2/8/32 clients
    .venv/bin/python bench/slow_clients.py --clients 0 8    # a subset

For each worker model, starts ``injection-cds serve --workers 2 --worker-class M`` on
loopback, opens N connections that send a request's headers one byte a second (a slow or
hostile client; the probe of issue 13), then measures GET /healthz and one charting call
(``fixtures/examples/charting-ceftriaxone.json``) five times each. A request that gets no
answer within 10 s counts as 10 s. Prints a Markdown table; only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUEST = (ROOT / "fixtures" / "examples" / "charting-ceftriaxone.json").read_bytes()
CLI = str(Path(sys.executable).with_name("injection-cds"))
CAP = 10.0  # seconds: an unanswered request counts as this


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _slow_client(port: int, stop: threading.Event) -> None:
    """Sends headers one byte a second; reconnects when cut (a persistent attacker)."""
    line = b"POST /cds-services/injection-charting HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                for byte in line:
                    if stop.wait(1.0):
                        return
                    sock.sendall(bytes([byte]))
        except OSError:
            continue


def _timed(url: str, body: bytes | None) -> float:
    started = time.monotonic()
    headers = {"Content-Type": "application/json"} if body else {}
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=CAP) as response:
            response.read()
    except (urllib.error.URLError, TimeoutError, OSError):
        return CAP
    return time.monotonic() - started


def measure(worker_class: str, clients: int, workdir: Path) -> dict[str, float]:
    """Healthz and charting latency (median, max) with ``clients`` slow clients connected."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INJECTION_CDS_")}
    env["INJECTION_CDS_INSTANCE_DIR"] = str(workdir / "instance")
    env["INJECTION_CDS_LOG_LEVEL"] = "WARNING"
    command = [CLI, "serve", "--port", str(port), "--workers", "2"]
    command += ["--worker-class", worker_class]
    with (workdir / f"{worker_class}-{clients}.log").open("wb") as log:
        server = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    threads = [threading.Thread(target=_slow_client, args=(port, stop)) for _ in range(clients)]
    try:
        deadline = time.monotonic() + 60
        while _timed(f"{base}/healthz", None) >= CAP or time.monotonic() > deadline:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        for thread in threads:
            thread.start()
        time.sleep(12.0)  # past the header deadline: cut clients have reconnected
        health = [_timed(f"{base}/healthz", None) for _ in range(5)]
        charting = [_timed(f"{base}/cds-services/injection-charting", REQUEST) for _ in range(5)]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return {
        "healthz_median_ms": statistics.median(health) * 1000,
        "healthz_max_ms": max(health) * 1000,
        "charting_median_ms": statistics.median(charting) * 1000,
        "charting_max_ms": max(charting) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[0, 2, 8, 32, 128])
    parser.add_argument("--models", nargs="+", default=["sync", "gthread"])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            for clients in args.clients:
                figures = measure(model, clients, Path(tmp))
                rows.append({"model": model, "slow_clients": clients, **figures})
    print(
        "| worker model | slow clients | healthz median / max (ms) | charting median / max (ms) |"
    )
    print("|---|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['model']} | {row['slow_clients']} | "
            f"{row['healthz_median_ms']:.0f} / {row['healthz_max_ms']:.0f} | "
            f"{row['charting_median_ms']:.0f} / {row['charting_max_ms']:.0f} |"
        )
    print()
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
