"""Who may call: the EHR's JWT on every service call, and the same trust for analytics.

A ``before_request`` verifies the caller on ``/cds-services`` (discovery, services, feedback)
and ``/analytics``: a refusal is a 401 OperationOutcome saying why, never echoing the token.
``/analytics`` also accepts the configured admin token (``analytics.admin_token``).

With no issuer configured only loopback clients may call, and a request that came through a
proxy (``Forwarded``/``X-Forwarded-For``/``X-Real-IP``) is not a loopback client even when
the proxy runs on the same host.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests
from flask import Flask, Response, current_app, g, request

from injection_cds.store.ledger import Store
from injection_cds.web.auth import Unauthorized, Verifier

VERIFIER_KEY = "injection_cds.verifier"
ADMIN_TOKEN_KEY = "injection_cds.admin_token_sha256"
_PROTECTED_PREFIX = "/cds-services"
_ANALYTICS = "/analytics"
_FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def init_trust(
    app: Flask, settings: Mapping[str, Any], store: Store, session: requests.Session
) -> Verifier:
    """Make the verifier (replay check through the store) and register the check."""
    config_dir = settings.get("config_dir") or Path.cwd()
    verifier = Verifier.from_config(
        settings.get("auth") or {}, store.guarded_replay, session, base_dir=config_dir
    )
    app.extensions[VERIFIER_KEY] = verifier
    admin = (settings.get("analytics") or {}).get("admin_token")
    app.extensions[ADMIN_TOKEN_KEY] = hashlib.sha256(admin.encode()).digest() if admin else None
    app.before_request(_authenticate)
    return verifier


def _public_url() -> str:
    from injection_cds.web.routes import base_url

    return base_url() + request.path


def _is_admin(header: str | None) -> bool:
    wanted: bytes | None = current_app.extensions.get(ADMIN_TOKEN_KEY)
    if wanted is None or not header:
        return False
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    return hmac.compare_digest(hashlib.sha256(token.strip().encode()).digest(), wanted)


def _refuse(refusal: Unauthorized) -> Response:
    from injection_cds.web.routes import error_response

    g.injection_cds_refusal = refusal.reason
    response = error_response(refusal)
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _authenticate() -> Response | None:
    g.injection_cds_started = time.perf_counter()
    path = request.path
    if request.method == "OPTIONS":
        return None
    analytics = path == _ANALYTICS
    if not (analytics or path.startswith(_PROTECTED_PREFIX)):
        return None
    header = request.headers.get("Authorization")
    if analytics and _is_admin(header):
        return None
    verifier: Verifier = current_app.extensions[VERIFIER_KEY]
    if not verifier.enabled and any(name in request.headers for name in _FORWARDING_HEADERS):
        return _refuse(
            Unauthorized(
                "no trusted issuers are configured and the request came through a proxy; "
                "only direct loopback clients may call"
            )
        )
    try:
        claims = verifier.verify(header, _public_url(), request.remote_addr)
    except Unauthorized as refusal:
        return _refuse(refusal)
    g.injection_cds_claims = claims
    return None
