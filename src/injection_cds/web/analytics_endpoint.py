"""``GET /analytics``: per rule, cards shown, accepted, overridden, and why (JSON or HTML).

Behind the same trust as the services (see ``trust``); 503 while the store is away.
"""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, current_app, request

from injection_cds.protocol.errors import BadRequest, ServiceUnavailable
from injection_cds.store.analytics import build_report, parse_since, render_html, report_json
from injection_cds.store.guard import Unavailable
from injection_cds.store.ledger import Store
from injection_cds.web.feedback_endpoint import FEEDBACK_WAIT_SECONDS, STORE_KEY

blueprint = Blueprint("injection_cds_analytics", __name__)


@blueprint.get("/analytics")
def analytics() -> Response:
    """Per rule: cards shown, accepted, overridden, override rate, top override reasons."""
    since_text = request.args.get("since")
    try:
        since = parse_since(since_text) if since_text else None
    except ValueError as exc:
        raise BadRequest(str(exc), where="since") from None
    store: Store = current_app.extensions[STORE_KEY]
    try:
        report = store.guard.run(
            "analytics", lambda: build_report(store, since), wait=FEEDBACK_WAIT_SECONDS
        )
    except Unavailable:
        raise ServiceUnavailable("the card ledger is unavailable; try again later") from None
    wanted = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if wanted == "text/html":
        from injection_cds.web.routes import base_url

        return Response(render_html(report, base_url()), mimetype="text/html")
    return Response(orjson.dumps(report_json(report)), mimetype="application/json")
