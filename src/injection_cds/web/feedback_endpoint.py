"""``POST /cds-services/<id>/feedback`` (CDS Hooks 2.0 body, or a single feedback object).

Every item is stored once (a retry is recognised); unknown card uuids are stored and flagged.
While the store is away the answer is 503 with ``Retry-After``: nothing was stored, and the
EHR may send the same items again.
"""

from __future__ import annotations

import logging

import orjson
from flask import Blueprint, Response, current_app, g

from injection_cds.protocol.errors import ServiceUnavailable
from injection_cds.protocol.feedback import parse_feedback
from injection_cds.store.guard import Unavailable
from injection_cds.store.ledger import Store

log = logging.getLogger("injection_cds.web.feedback")
blueprint = Blueprint("injection_cds_feedback", __name__)

STORE_KEY = "injection_cds.store.ledger"
FEEDBACK_WAIT_SECONDS = 5.0  # feedback is not on the clinician's path: it may wait longer


@blueprint.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    """CDS Hooks feedback: store every item; unknown card uuids are stored and flagged."""
    from injection_cds.protocol.pipeline import find_service
    from injection_cds.web.routes import error_response, read_json_body

    find_service(service_id)  # 404 for an unknown service
    items = parse_feedback(read_json_body())
    store: Store = current_app.extensions[STORE_KEY]
    wait = max(store.request_wait_seconds, FEEDBACK_WAIT_SECONDS)
    try:
        result = store.guard.run(
            "feedback", lambda: store.feedback.record(service_id, items), wait=wait
        )
    except Unavailable as exc:
        log.error("feedback not stored (%d items): %s", len(items), exc.cause)
        error = ServiceUnavailable(
            "the feedback store is unavailable; nothing was stored, send the feedback again "
            "later (the same items are stored once)"
        )
        response = error_response(error)
        response.headers["Retry-After"] = "30"
        return response
    g.injection_cds_feedback = result
    return Response(orjson.dumps(result.as_json()), mimetype="application/json")
