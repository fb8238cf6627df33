"""The HTTP layer: discovery, service calls, rule pages. No domain logic here.

Every error is a FHIR OperationOutcome with the status its exception carries; nothing
unexpected leaks a stack trace or a value from the request.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError

from injection_cds.core.context import RuleContext
from injection_cds.fhir.prefetch import FhirClient
from injection_cds.protocol import pipeline
from injection_cds.protocol.errors import (
    BadRequest,
    Issue,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    UnsupportedMediaType,
    operation_outcome,
)
from injection_cds.protocol.services import discovery_document
from injection_cds.store.guard import Unavailable
from injection_cds.web.pages import reference_quarters, rule_page_context, rules_index_context

log = logging.getLogger("injection_cds.web.routes")
blueprint = Blueprint("injection_cds", __name__)

_JSON = "application/json"
_GZIP = ("gzip", "x-gzip")
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around the deflate stream
_UTF8_BOM = b"\xef\xbb\xbf"  # RFC 8259 section 8.1: a parser may ignore it
_FHIR_JSON = "application/fhir+json"
_CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "600",
}


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response encoded with orjson."""
    return Response(orjson.dumps(body), status=status, mimetype=_JSON)


def outcome_response(outcome: dict[str, Any], status: int) -> Response:
    """A FHIR OperationOutcome response with this status."""
    return Response(orjson.dumps(outcome), status=status, mimetype=_FHIR_JSON)


def error_response(error: ServiceError) -> Response:
    """A service error's OperationOutcome, with the status it carries."""
    return outcome_response(error.operation_outcome(), error.status)


def base_url() -> str:
    """The public base URL: configured, else from the request."""
    configured = current_app.config["INJECTION_CDS"].get("public_base_url")
    return str(configured or request.host_url).rstrip("/")


def read_json_body() -> Any:
    """The request body as JSON: 415 when not JSON, 413 when too large, 400 when malformed.

    A gzip body (``Content-Encoding: gzip``) is inflated up to the limit; other codings 415.
    """
    limit = current_app.config["INJECTION_CDS"]["max_body_bytes"]
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    mimetype = request.mimetype or ""
    if mimetype != _JSON and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(
            "the body must be JSON (Content-Type: application/json)", where="Content-Type"
        )
    coding = request.headers.get("Content-Encoding", "").strip().lower()
    if coding not in ("", "identity", *_GZIP):
        raise UnsupportedMediaType(
            "the body's Content-Encoding is not supported (gzip or none)",
            where="Content-Encoding",
        )
    raw = request.get_data(cache=False)
    # Without Content-Length (chunked), werkzeug stops reading at the limit without an
    # error: a body that reaches the limit may be truncated, so it is refused too.
    if len(raw) > limit or (request.content_length is None and len(raw) >= limit):
        raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    if coding in _GZIP:
        raw = _gunzip(raw, limit)
    try:
        return orjson.loads(raw.removeprefix(_UTF8_BOM))
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON (at character {exc.pos})") from None


def _gunzip(data: bytes, limit: int) -> bytes:
    """A gzip body inflated, never past ``limit`` bytes (413); 400 when corrupt or cut short."""
    inflater = zlib.decompressobj(_GZIP_WBITS)
    try:
        plain = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise BadRequest("the body is not valid gzip (Content-Encoding: gzip)") from None
    if len(plain) > limit:
        raise PayloadTooLarge(f"the body is over the limit of {limit} bytes once inflated")
    if not inflater.eof:
        raise BadRequest("the gzip body is cut short (Content-Encoding: gzip)")
    return plain


@blueprint.get("/cds-services")
def discovery() -> Response:
    """CDS Hooks discovery, generated from ``cds_hooks/services.json``."""
    return json_response(discovery_document())


def _fhir_client() -> FhirClient:
    """The FHIR client, limited to the FHIR servers of the caller's issuer."""
    client: FhirClient = current_app.extensions["injection_cds.fhir_client"]
    claims = g.get("injection_cds_claims")
    if claims is None:  # no issuers configured: fhir.allowed_servers, if any
        return client
    verifier = current_app.extensions["injection_cds.verifier"]
    return client.for_servers(verifier.issuers[claims.iss].fhir_servers)


@blueprint.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    """Call one CDS service."""
    pipeline.find_service(service_id)  # 404 before reading the body
    body = read_json_body()
    context: RuleContext = current_app.extensions["injection_cds.rule_context"]
    result = pipeline.call_service(
        service_id,
        body,
        ctx=context,
        base_url=base_url(),
        client=_fhir_client(),
        policy=current_app.extensions["injection_cds.card_policy"],
        strict=current_app.config["INJECTION_CDS"]["fhir"]["strict"],
        max_resources=current_app.config["INJECTION_CDS"]["budget"]["max_resources"],
    )
    request.environ["injection_cds.result"] = result
    return json_response(result.response)


floor_blueprint = Blueprint("injection_cds_floor", __name__)


@floor_blueprint.post("/_floor")
def floor() -> Response:
    """Parse the JSON body and answer no cards: the benchmark's floor (benchmark mode only)."""
    read_json_body()
    return json_response({"cards": []})


@blueprint.get("/rules")
def rules_index() -> str:
    """The rule catalog as an HTML page."""
    return render_template("rules.html", **rules_index_context(base_url()))


@blueprint.get("/rules/<code>")
def rule_page(code: str) -> str:
    """One rule's page: summary, why it matters, bad and good FHIR, sources."""
    page = rule_page_context(code.upper(), base_url())
    if page is None:  # the code is not echoed: it is whatever the client put in the URL
        raise NotFound("no rule with this code; /rules lists them", where="code")
    context: RuleContext = current_app.extensions["injection_cds.rule_context"]
    return render_template("rule.html", **page, quarters=reference_quarters(context.catalog))


@blueprint.get("/healthz")
def health() -> Response:
    """Liveness: the process answers (with the database state it last saw; no waiting)."""
    store = current_app.extensions["injection_cds.store.ledger"]
    return json_response({"status": "ok", "database": store.guard.snapshot()})


@blueprint.get("/readyz")
def ready() -> Response:
    """Readiness: the database answers a ping within the request wait (503 when not).

    The service still answers hook calls while the database is away (degraded: no ledger,
    feedback 503, replay check per process); this tells a load balancer or an operator.
    """
    store = current_app.extensions["injection_cds.store.ledger"]
    try:
        store.guard.run("readiness", store.db.ping, wait=store.request_wait_seconds)
    except Unavailable:
        body = {"status": "degraded", "database": store.guard.snapshot()}
        return json_response(body, status=503)
    return json_response({"status": "ready", "database": store.guard.snapshot()})


@blueprint.after_app_request
def add_cors_headers(response: Response) -> Response:
    """CORS for browser-based EHRs and the CDS Hooks sandbox (Authorization allowed)."""
    origin = current_app.config["INJECTION_CDS"]["cors_allow_origin"]
    response.headers["Access-Control-Allow-Origin"] = origin
    if origin != "*":
        response.headers["Vary"] = "Origin"
    for name, value in _CORS_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def register_error_handlers(app: Flask) -> None:
    """Render every error as a FHIR OperationOutcome; never a stack trace."""

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError) -> Response:
        return error_response(error)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> Response:
        limit = app.config["INJECTION_CDS"]["max_body_bytes"]
        return error_response(PayloadTooLarge(f"the body is over the limit of {limit} bytes"))

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError) -> Response:
        # The Host header is not echoed: it is the client's value.
        return error_response(
            BadRequest("the Host header is not one of this service's trusted hosts", where="Host")
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 404:
            return error_response(NotFound("no such resource on this service"))
        if status == 405:
            response = error_response(MethodNotAllowed("this method is not allowed here"))
            allowed = getattr(error, "valid_methods", None)
            if allowed:  # RFC 9110 §15.5.6: a 405 names the allowed methods
                response.headers["Allow"] = ", ".join(allowed)
            return response
        issue = Issue(error.description or error.name, None, "processing")
        return outcome_response(operation_outcome([issue]), status)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # Log the type only: the exception text could carry request content (PHI).
        log.error("unexpected error %s", type(error).__name__)
        issue = Issue("internal error; the request was not processed", None, "exception")
        return outcome_response(operation_outcome([issue]), 500)

    @app.before_request
    def preflight() -> Response | None:
        if request.method == "OPTIONS":
            return Response(status=204)
        return None
