"""Helpers for the HTTP tests: an app built from a dict, and a real local FHIR server; and,
for tests below HTTP, the facts of a charting request's visit.

The FHIR server is ``http.server`` in a thread on a free port on 127.0.0.1. Routes map a
path with its query (``Encounter/e1`` or ``Condition?patient=p1&encounter=e1``) to a FHIR
JSON body, a status, or a delay; every request's path and headers are recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from flask import Flask

from injection_cds.core.extract import visit_facts
from injection_cds.core.extraction.index import ResourceIndex
from injection_cds.core.facts import VisitFacts
from injection_cds.web.factory import create_app

Json = dict[str, Any]
TOKEN = "tok-SECRET-b7c1f0e2d9a84b6c"


@contextmanager
def app_for(tmp_path: Path, **overrides: Any) -> Iterator[Flask]:
    """An app from a config dict (instance dir under tmp_path); closes its FHIR session."""
    config: Json = {"instance_dir": str(tmp_path / "instance")}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    app = create_app(config)
    try:
        yield app
    finally:
        app.extensions["injection_cds.fhir_client"].session.close()


@dataclass
class Route:
    """What the stub answers for one path: a body, a status, a delay, extra headers."""

    body: Any = None
    status: int = 200
    delay: float = 0.0
    content_type: str = "application/fhir+json"
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    """One request the stub received."""

    path: str
    headers: dict[str, str]


class LoopbackServer:
    """An http.server on a free 127.0.0.1 port, serving from a thread until ``close()``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        """Stop serving and release the port."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class JsonServer(LoopbackServer):
    """Serves JSON documents by path (any other path: 404), counting the GETs of each path."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.hits: dict[str, int] = {}
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                hits[self.path] = hits.get(self.path, 0) + 1
                document = documents.get(self.path)
                body = json.dumps(document or {}).encode()
                self.send_response(200 if document else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        super().__init__(Handler)


class FhirStub:
    """A FHIR server on 127.0.0.1 that demands ``Authorization: Bearer <token>``."""

    def __init__(self, token: str | None = TOKEN) -> None:
        self.token = token
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                stub._answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return  # quiet: pytest would show stderr

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        """The FHIR base URL."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/fhir"

    def add(self, path: str, body: Any = None, **kwargs: Any) -> None:
        """Answer GET {base}/{path} with this body (or status, delay...)."""
        self.routes["/fhir/" + path] = Route(body, **kwargs)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.seen.append(Seen(handler.path, dict(handler.headers.items())))
        expected = f"Bearer {self.token}" if self.token else None
        route = self.routes.get(unquote(handler.path))
        if expected and handler.headers.get("Authorization") != expected:
            route = Route({"resourceType": "OperationOutcome"}, status=401)
        elif route is None:
            route = Route({"resourceType": "OperationOutcome"}, status=404)
        if route.delay:
            time.sleep(route.delay)
        payload = route.raw if route.raw is not None else json.dumps(route.body).encode()
        try:
            handler.send_response(route.status)
            handler.send_header("Content-Type", route.content_type)
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in route.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def __enter__(self) -> FhirStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def searchset(resources: list[Json], next_url: str | None = None) -> Json:
    """A searchset Bundle of these resources, with a ``next`` link when given."""
    bundle: Json = {"resourceType": "Bundle", "type": "searchset", "total": len(resources)}
    if resources:
        bundle["entry"] = [
            {
                "fullUrl": f"urn:uuid:{r['resourceType']}-{r.get('id', i)}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for i, r in enumerate(resources)
        ]
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def operation_outcome_issues(body: Json) -> list[Json]:
    """The issues of an OperationOutcome body, checking its shape."""
    assert body["resourceType"] == "OperationOutcome"
    issues: list[Json] = body["issue"]
    assert issues
    for issue in issues:
        assert issue["severity"] in ("fatal", "error", "warning", "information")
        assert isinstance(issue["code"], str) and issue["code"]
        assert isinstance(issue["diagnostics"], str) and issue["diagnostics"]
    return issues


def charting_visit(body: Json) -> VisitFacts:
    """The visit of a charting request read straight from its context and prefetch (no HTTP,
    no validation): what the billing plan and the rules see."""
    index = ResourceIndex()
    administrations = [e["resource"] for e in body["context"]["medicationAdministrations"]["entry"]]
    for resource in administrations:
        index.add(resource)
    for value in body["prefetch"].values():
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            for entry in value.get("entry", []):
                index.add(entry["resource"])
        elif isinstance(value, dict):
            index.add(value)
    return visit_facts(
        body["hook"],
        index,
        administrations=administrations,
        encounter_id=body["context"]["encounterId"],
        patient_id=body["context"]["patientId"],
    )
