"""The request log line of every call, after it is answered (and its cards ledgered).

One line per request: service, hook, hookInstance, method, path, status, duration, rules
fired, the caller's ``iss``/``jti``, the refusal reason. Nothing else (no PHI).
"""

from __future__ import annotations

import time

from flask import Response, g, request

from injection_cds.web.auth import Claims
from injection_cds.web.ledger_write import record_cards
from injection_cds.web.logging_setup import log_request

RESULT_KEY = "injection_cds.result"


def record_and_log(response: Response) -> Response:
    """``after_request``: ledger the cards of a 200, then write the log line."""
    result = request.environ.get(RESULT_KEY)
    service_id = hook = hook_instance = None
    rules: list[str] = []
    if result is not None:
        service_id = result.service.id
        hook, hook_instance = result.request.hook, result.request.hook_instance
        rules = [finding.rule for finding in result.findings]
        if response.status_code == 200:
            record_cards(result)
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
