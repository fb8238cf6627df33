"""HTTP glue of issue 4: JWT check, feedback endpoint, analytics, card ledger and request log.

``init_app(app, settings)`` wires it into the application made by ``create_app``:

- a ``before_request`` that verifies the EHR's JWT on every ``/cds-services`` call (discovery,
  services, feedback); a refusal is a 401 OperationOutcome saying why, never echoing the token;
- ``POST /cds-services/<id>/feedback`` (CDS Hooks 2.0 body, or a single feedback object);
- ``GET /analytics`` (JSON, or HTML when the Accept header prefers ``text/html``);
- an ``after_request`` that records the returned cards in the ledger and writes the request
  log line (service, hook, hookInstance, status, duration, rules fired; nothing else).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import requests
from flask import Blueprint, Flask, Response, current_app, g, request

from injection_cds import config as config_module
from injection_cds.protocol.errors import BadRequest
from injection_cds.protocol.feedback import parse_feedback
from injection_cds.store.analytics import build_report, parse_since, render_html, report_json
from injection_cds.store.ledger import STORE_SCHEMA, Store, store_from_config
from injection_cds.web.auth import AUTH_SCHEMA, Claims, Unauthorized, Verifier
from injection_cds.web.logging_setup import configure_logging, log_request

log = logging.getLogger("injection_cds.web.routes")
blueprint = Blueprint("injection_cds_trust", __name__)

STORE_KEY = "injection_cds.store.ledger"
VERIFIER_KEY = "injection_cds.verifier"
_RESULT_KEY = "injection_cds.result"
_PROTECTED_PREFIX = "/cds-services"

config_module.register_section_schema("auth", AUTH_SCHEMA)
for _name in ("store_user_comments", "sqlite_busy_timeout_ms"):
    config_module.register_section_schema(_name, STORE_SCHEMA["properties"][_name])


def init_app(app: Flask, settings: Mapping[str, Any]) -> None:
    """Open the store and the verifier and register the routes and hooks."""
    configure_logging(settings.get("log_level", "INFO"))
    store = store_from_config(settings)
    session = requests.Session()
    config_dir = settings.get("config_dir") or Path.cwd()
    verifier = Verifier.from_config(settings.get("auth") or {}, store, session, base_dir=config_dir)
    app.extensions[STORE_KEY] = store
    app.extensions[VERIFIER_KEY] = verifier
    weakref.finalize(app, _close, store, session)
    app.register_blueprint(blueprint)
    app.before_request(_authenticate)
    app.after_request(_record_and_log)


def _close(store: Store, session: requests.Session) -> None:
    store.close()
    session.close()


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def _public_url() -> str:
    from injection_cds.web.routes import base_url

    return base_url() + request.path


def _authenticate() -> Response | None:
    g.injection_cds_started = time.perf_counter()
    if request.method == "OPTIONS" or not request.path.startswith(_PROTECTED_PREFIX):
        return None
    verifier: Verifier = current_app.extensions[VERIFIER_KEY]
    try:
        claims = verifier.verify(
            request.headers.get("Authorization"), _public_url(), request.remote_addr
        )
    except Unauthorized as refusal:
        g.injection_cds_refusal = refusal.reason
        response = Response(
            orjson.dumps(refusal.operation_outcome()),
            status=refusal.status,
            mimetype="application/fhir+json",
        )
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    g.injection_cds_claims = claims
    return None


@blueprint.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    """CDS Hooks feedback: store every item; unknown card uuids are stored and flagged."""
    from injection_cds.protocol.pipeline import find_service
    from injection_cds.web.routes import read_json_body

    find_service(service_id)  # 404 for an unknown service
    items = parse_feedback(read_json_body())
    store: Store = current_app.extensions[STORE_KEY]
    result = store.record_feedback(service_id, items)
    g.injection_cds_feedback = result
    return _json(result.as_json())


@blueprint.get("/analytics")
def analytics() -> Response:
    """Per rule: cards shown, accepted, overridden, override rate, top override reasons."""
    since_text = request.args.get("since")
    try:
        since = parse_since(since_text) if since_text else None
    except ValueError as exc:
        raise BadRequest(str(exc), where="since") from None
    store: Store = current_app.extensions[STORE_KEY]
    report = build_report(store, since)
    wanted = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if wanted == "text/html":
        from injection_cds.web.routes import base_url

        return Response(render_html(report, base_url()), mimetype="text/html")
    return _json(report_json(report))


def _record_and_log(response: Response) -> Response:
    result = request.environ.get(_RESULT_KEY)
    service_id = hook = hook_instance = None
    rules: list[str] = []
    if result is not None:
        service_id = result.service.id
        hook, hook_instance = result.request.hook, result.request.hook_instance
        rules = [finding.rule for finding in result.findings]
        if response.status_code == 200:
            _record_cards(result)
    elif request.view_args:
        service_id = request.view_args.get("service_id")
    claims: Claims | None = g.get("injection_cds_claims")
    started = g.get("injection_cds_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    log_request(
        service=service_id,
        hook=hook,
        hook_instance=hook_instance,
        method=request.method,
        path=request.path,
        status=response.status_code,
        duration_ms=duration_ms,
        rules=rules,
        iss=claims.iss if claims else None,
        jti=claims.jti if claims else None,
        reason=g.get("injection_cds_refusal"),
    )
    return response


def _record_cards(result: Any) -> None:
    """Ledger the returned cards; a database failure is logged, the cards still go out."""
    store: Store = current_app.extensions[STORE_KEY]
    context = result.request.context
    patient, encounter = context.get("patientId"), context.get("encounterId")
    try:
        store.record_cards(
            result.service.id,
            result.request.hook,
            result.request.hook_instance,
            result.cards,
            patient if isinstance(patient, str) else None,
            encounter if isinstance(encounter, str) else None,
        )
    except Exception as exc:  # the clinician still gets the cards
        log.error("card ledger write failed: %s", type(exc).__name__)
