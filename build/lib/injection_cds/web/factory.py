"""The application factory: ``create_app(config=None)``; no module-level app.

Configuration comes from defaults, then ``INJECTION_CDS_*`` environment variables, then the
TOML file, then the dict given here (tests).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests
from flask import Flask

from injection_cds.config import load_config
from injection_cds.core.context import RuleContext
from injection_cds.fhir.prefetch import FhirClient
from injection_cds.fhir.validation import configure_fast_validation, configure_validation_cache
from injection_cds.reference.settings import rule_context_from_config
from injection_cds.web import (
    trust as http_trust,  # registers the auth/store config schema before loading
)

log = logging.getLogger("injection_cds")


def create_app(config: Mapping[str, Any] | None = None, *, config_file: str | None = None) -> Flask:
    """A configured Flask application serving the CDS services."""
    settings = load_config(config, config_file=config_file)
    app = Flask(__name__)
    app.config["INJECTION_CDS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings["max_body_bytes"]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    logging.getLogger("injection_cds").setLevel(settings["log_level"])

    fhir = settings["fhir"]
    configure_validation_cache(fhir["validation_cache_size"])
    configure_fast_validation(fhir["fast_validation"])
    session = requests.Session()
    app.extensions["injection_cds.fhir_client"] = FhirClient(
        session=session,
        connect_timeout=fhir["connect_timeout"],
        read_timeout=fhir["read_timeout"],
        allow_http_loopback=fhir["allow_http_loopback"],
        max_pages=fhir["max_pages"],
    )
    context: RuleContext = rule_context_from_config(settings)
    app.extensions["injection_cds.rule_context"] = context

    from injection_cds.web.routes import blueprint, register_error_handlers

    app.register_blueprint(blueprint)
    register_error_handlers(app)
    http_trust.init_app(app, settings)  # JWT check, feedback, analytics, card ledger, request log
    return app
