"""Run the Flask app under gunicorn, in process (no shell, no generated config file).

The worker model is gunicorn's ``gthread`` (``BoundedReadWorker``): each worker process
serves up to ``threads`` requests at once; a connection that sends no data goes back to
gunicorn's poller, and one that has not sent its whole request line, headers and body
within ``HEADER_SECONDS`` is cut, so a slow client holds a thread for seconds, never for minutes
(measured against ``sync`` in ``bench/slow_clients.py``; README "Operations"). Errors
gunicorn answers itself (a malformed request line, a URI or header over its limits) are
FHIR OperationOutcomes too, naming no request value.

The app is built before gunicorn starts: a configuration or database that cannot be used
stops ``injection-cds serve`` at once with a one-line reason (``StartupError``).

The app is built once in the master (``preload_app``), warmed up (in-process calls of each
service on the shipped requests in ``warmup/``, so the FHIR models, rules and templates are
imported and built before the fork) and then frozen for the garbage collector (``gc.freeze``): the
workers share those objects copy-on-write and their collections no longer walk the ~100k
objects of the import graph, which showed as tens of ms of p99 latency.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import socket
import threading
import time
from importlib import resources
from typing import Any

import gunicorn.util
import orjson
from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker
from sqlalchemy.exc import SQLAlchemyError

from injection_cds.config import ConfigError
from injection_cds.protocol.errors import Issue, operation_outcome
from injection_cds.store.guard import describe
from injection_cds.web.factory import create_app

log = logging.getLogger("injection_cds")


def warm_up_requests() -> list[tuple[str, Any]]:
    """The shipped warm-up bodies: (service id, request), synthetic charts of nobody."""
    folder = resources.files("injection_cds.web").joinpath("warmup")
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            service_id = entry.name.rsplit("-", 1)[0]
            found.append((service_id, json.loads(entry.read_text("utf-8"))))
    return found


def warm_up(app: Flask) -> None:
    """Run each service once in process (no HTTP, no ledger) on its warm-up requests."""
    from injection_cds.fhir import validation as fhir
    from injection_cds.protocol import pipeline

    ctx = app.extensions["injection_cds.rule_context"]
    for service_id, body in warm_up_requests():
        try:
            pipeline.call_service(
                service_id, body, ctx=ctx, base_url="http://127.0.0.1", client=None
            )
        except Exception as exc:  # a warm-up problem must not stop the service
            log.warning("warm-up of %s failed: %s", service_id, type(exc).__name__)
    fhir.validate_resource({"resourceType": "Bundle", "type": "collection"}, "warm-up")
    fhir.clear_validation_cache()  # synthetic resources are nobody's visit


def freeze_for_fork() -> None:
    """Collect once, then move every object alive now out of the collector's reach."""
    gc.collect()
    gc.freeze()


class StartupError(Exception):
    """The service cannot start; the message is one line saying why."""


def build_app(config_file: str | None) -> Flask:
    """The app, or ``StartupError`` naming the configuration or database problem."""
    try:
        return create_app(config_file=config_file)
    except ConfigError as exc:
        raise StartupError(f"configuration: {exc}") from None
    except (SQLAlchemyError, OSError) as exc:
        raise StartupError(f"cannot open the ledger database ({describe(exc)})") from None


def _write_operation_outcome(sock: socket.socket, status: int, reason: str, mesg: str) -> None:
    """The answers gunicorn gives itself, as OperationOutcomes (``mesg`` may quote the request)."""
    issue = Issue(f"{status} {reason}: the request could not be read", None, "invalid")
    body = orjson.dumps(operation_outcome([issue]))
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/fhir+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    gunicorn.util.write_nonblock(sock, head.encode("latin-1") + body)


# gunicorn waits up to 5 s for a first byte; then the headers and the body must follow
HEADER_SECONDS = 10.0
HEADER_SWEEP_SECONDS = 0.5  # how often a worker looks for connections past their deadline


def _cut(conn: Any) -> None:
    # recv then returns b"": gunicorn's parser ends the request and closes the connection.
    with contextlib.suppress(OSError):
        conn.sock.shutdown(socket.SHUT_RDWR)


class HeaderDeadlines:
    """The connections of one worker still sending their request line, headers or body.

    One sweeper thread per worker cuts those past their deadline, so registering a request
    is a dict insert, not a timer thread started on every call.
    """

    def __init__(self, seconds: float = HEADER_SECONDS) -> None:
        self.seconds = seconds
        self._pending: dict[int, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._sweeper: threading.Thread | None = None

    def start(self, conn: Any) -> None:
        """``conn`` must have its request line, headers and body in by ``seconds`` from now."""
        with self._lock:
            self._pending[id(conn)] = (time.monotonic() + self.seconds, conn)
            if self._sweeper is None:  # started in the worker, after the fork
                self._sweeper = threading.Thread(
                    target=self._sweep, name="header-deadlines", daemon=True
                )
                self._sweeper.start()

    def done(self, conn: Any) -> None:
        """``conn``'s request is answered: its deadline no longer applies."""
        with self._lock:
            self._pending.pop(id(conn), None)

    def cut_expired(self, now: float) -> int:
        """Cut every connection whose deadline is past; how many were cut."""
        with self._lock:
            expired = [key for key, (deadline, _) in self._pending.items() if deadline <= now]
            conns = [self._pending.pop(key)[1] for key in expired]
        for conn in conns:
            _cut(conn)
        return len(conns)

    def _sweep(self) -> None:
        while True:
            time.sleep(HEADER_SWEEP_SECONDS)
            self.cut_expired(time.monotonic())


class BoundedReadWorker(ThreadWorker):  # type: ignore[misc]
    """The gthread worker with a deadline for a request's line, headers and body."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_deadlines = HeaderDeadlines()

    def handle(self, conn: Any) -> Any:
        """One request on ``conn``, cut when it is not read and answered by the deadline.

        The deadline runs through the body: a client that sent its headers and then stalled
        in the body held its thread for ever. The app answers within its own request budget
        (3 s), well inside the deadline.
        """
        self.header_deadlines.start(conn)
        try:
            return super().handle(conn)
        finally:
            self.header_deadlines.done(conn)


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], app: Flask) -> None:
        self.options = options
        self.application = app
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def run_gunicorn(
    *,
    host: str,
    port: int,
    workers: int,
    config_file: str | None,
    timeout: int = 30,
    threads: int = 32,
    worker_class: str = "gthread",
) -> None:
    """Serve until stopped. The app is built once in the master, then forked (fast start).

    Raises ``StartupError`` before anything is forked when the app cannot be built.
    """
    app = build_app(config_file)
    warm_up(app)
    freeze_for_fork()
    gunicorn.util.write_error = _write_operation_outcome  # this process's gunicorn only
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": BoundedReadWorker if worker_class == "gthread" else worker_class,
        "threads": threads,
        "preload_app": True,
        "timeout": timeout,
        "accesslog": None,  # the app logs its own request lines, without PHI
        "errorlog": "-",
        "loglevel": "info",
    }
    _Gunicorn(options, app).run()
