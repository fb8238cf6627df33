"""The real server, and peers on loopback that misbehave: for the hardening tests (issue 13).

- ``LiveServer``: ``injection-cds serve`` in a child process on a free port, with a TOML
  configuration written for the test; stopped (SIGTERM, then SIGKILL) on exit.
- ``StallingServer``: accepts TCP connections and never answers (a stalled PostgreSQL).
- ``StallableProxy``: forwards to a real server until ``stall()``; from then on it accepts
  and holds every connection, old and new, without passing a byte (PostgreSQL that stops
  answering while the service runs).
- ``HttpPeer``: an HTTP server whose handler the test writes (trickling, huge, hanging).

Every wait is bounded; every socket and thread is closed on exit.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

CLI = str(Path(sys.executable).with_name("injection-cds"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def toml_value(value: Any) -> str:
    """A TOML literal for a str, bool, number or list of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def write_toml(path: Path, config: Mapping[str, Any]) -> Path:
    """A TOML file of top-level keys, tables and arrays of tables (one level deep)."""
    lines: list[str] = []
    tables: list[str] = []
    for key, value in config.items():
        if isinstance(value, dict):
            tables.append(f"\n[{key}]")
            arrays = []
            for name, item in value.items():
                if isinstance(item, list) and item and isinstance(item[0], dict):
                    arrays.append((name, item))
                else:
                    tables.append(f"{name} = {toml_value(item)}")
            for name, entries in arrays:
                for entry in entries:
                    tables.append(f"\n[[{key}.{name}]]")
                    tables.extend(f"{k} = {toml_value(v)}" for k, v in entry.items())
        else:
            lines.append(f"{key} = {toml_value(value)}")
    path.write_text("\n".join(lines + tables) + "\n", encoding="utf-8")
    return path


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a child server: no INJECTION_CDS_* from the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INJECTION_CDS_")}
    env["INJECTION_CDS_INSTANCE_DIR"] = str(tmp_path / "instance")
    env["INJECTION_CDS_HASH_KEY"] = "live-server-hash-key-0123456789abcdef"
    env.update(extra)
    return env


class LiveServer:
    """``injection-cds serve`` with a configuration file, on a free loopback port."""

    def __init__(
        self,
        tmp_path: Path,
        config: Mapping[str, Any],
        *,
        workers: int = 2,
        args: tuple[str, ...] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config_path = write_toml(tmp_path / f"server-{self.port}.toml", config)
        self.log_path = tmp_path / f"server-{self.port}.log"
        command = [
            CLI,
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--config",
            str(self.config_path),
            *args,
        ]
        with self.log_path.open("wb") as sink:
            self.process = subprocess.Popen(
                command,
                env=dict(env or server_env(tmp_path)),
                cwd=tmp_path,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        """What the server wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until /healthz answers (fails with the log when the server exits or is late)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.log()[-3000:]}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError(f"the server did not start in {timeout} s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 20 s (the whole process group)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@contextlib.contextmanager
def live_server(tmp_path: Path, config: Mapping[str, Any], **kwargs: Any) -> Iterator[LiveServer]:
    """A started ``LiveServer``, stopped afterwards."""
    server = LiveServer(tmp_path, config, **kwargs)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


class StallingServer:
    """Accepts TCP connections on loopback and never sends a byte."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self._stop.set()
        self.thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()
        self.listener.close()


class StallableProxy:
    """A TCP proxy to ``target``; after ``stall()`` it passes nothing, in either direction."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.stalled = threading.Event()
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def stall(self) -> None:
        """From now on: hold every connection, pass no byte."""
        self.stalled.set()

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._sockets.append(client)
            if self.stalled.is_set():
                continue  # accepted, never answered
            upstream = socket.create_connection(self.target, timeout=5)
            with self._lock:
                self._sockets.append(upstream)
            worker = threading.Thread(target=self._pump, args=(client, upstream), daemon=True)
            self._threads.append(worker)
            worker.start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        pairs = {client: upstream, upstream: client}
        while not self._stop.is_set():
            if self.stalled.is_set():
                time.sleep(0.05)  # hold the connection open, pass nothing
                continue
            try:
                readable, _, _ = select.select(list(pairs), [], [], 0.1)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pairs[sock].sendall(data)
            except OSError:
                return

    def close(self) -> None:
        """Stop and close every socket."""
        self._stop.set()
        self.thread.join(timeout=5)
        for worker in self._threads:
            worker.join(timeout=5)
        with self._lock:
            for sock in self._sockets:
                sock.close()
        self.listener.close()


class HttpPeer:
    """An HTTP/1.1 server on loopback whose GET handler is ``handle(handler)``."""

    def __init__(self, handle: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.requests = 0

        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                peer.requests += 1
                with contextlib.suppress(OSError):
                    handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        """The FHIR base URL on this peer."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
