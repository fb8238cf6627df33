"""The application factory: ``create_app(config=None)``; no module-level app.

Configuration comes from defaults, then ``INJECTION_CDS_*`` environment variables, then the
TOML file, then the dict given here (tests).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from typing import Any

import requests
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from injection_cds.config import load_config
from injection_cds.core.context import RuleContext
from injection_cds.fhir.prefetch import FhirClient
from injection_cds.fhir.validation import configure_fast_validation, configure_validation_cache
from injection_cds.protocol.audience import policy_from_config
from injection_cds.reference.settings import rule_context_from_config
from injection_cds.store.ledger import Store, store_from_config
from injection_cds.web.feedback_endpoint import STORE_KEY
from injection_cds.web.logging_setup import configure_logging

log = logging.getLogger("injection_cds")


def create_app(config: Mapping[str, Any] | None = None, *, config_file: str | None = None) -> Flask:
    """A configured Flask application serving the CDS services."""
    settings = load_config(config, config_file=config_file)
    app = Flask(__name__)
    app.config["INJECTION_CDS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings["max_body_bytes"]
    if not settings.get("public_base_url"):
        # Card links come from the Host header only when it is one of these.
        app.config["TRUSTED_HOSTS"] = list(settings["trusted_hosts"])
    hops = int(settings["proxy_hops"])
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    configure_logging(settings.get("log_level", "INFO"))
    logging.getLogger("injection_cds").setLevel(settings["log_level"])

    fhir = settings["fhir"]
    configure_validation_cache(fhir["validation_cache_size"])
    configure_fast_validation(fhir["fast_validation"])
    session = requests.Session()
    allowed = fhir.get("allowed_servers") or None
    app.extensions["injection_cds.fhir_client"] = FhirClient(
        session=session,
        connect_timeout=fhir["connect_timeout"],
        read_timeout=fhir["read_timeout"],
        allow_http_loopback=fhir["allow_http_loopback"],
        max_pages=fhir["max_pages"],
        fetch_budget_seconds=fhir["fetch_budget_seconds"],
        max_response_bytes=fhir["max_response_bytes"],
        allowed_servers=tuple(allowed) if allowed else None,
    )
    context: RuleContext = rule_context_from_config(settings)
    app.extensions["injection_cds.rule_context"] = context
    app.extensions["injection_cds.card_policy"] = policy_from_config(settings)

    from injection_cds.web import analytics_endpoint, feedback_endpoint
    from injection_cds.web.request_log import record_and_log
    from injection_cds.web.routes import blueprint, floor_blueprint, register_error_handlers
    from injection_cds.web.trust import init_trust

    store = store_from_config(settings)  # opens the database: fails here when it cannot
    app.extensions[STORE_KEY] = store
    jwks_session = requests.Session()
    init_trust(app, settings, store, jwks_session)  # the JWT check, before every route
    weakref.finalize(app, _close, store, jwks_session)
    app.register_blueprint(blueprint)
    app.register_blueprint(feedback_endpoint.blueprint)
    app.register_blueprint(analytics_endpoint.blueprint)
    if settings["benchmark_mode"]:
        log.warning("benchmark mode: POST /_floor is served")
        app.register_blueprint(floor_blueprint)
    register_error_handlers(app)
    app.after_request(record_and_log)  # the card ledger, then the request log line
    return app


def _close(store: Store, session: requests.Session) -> None:
    store.close()
    session.close()
