"""The web server's configuration keys: public URL, trusted hosts, proxy hops, modes, limits.

Declared here (``get_configs_info``) and collected by ``config.py``; no Flask import, so the
CLI can validate a configuration without building the application.
"""

from __future__ import annotations

from typing import Any

WEB_SCHEMA: dict[str, Any] = {
    "public_base_url": {
        "type": ["string", "null"],
        "pattern": "^https?://",
        "description": "The URL clients reach the service at; card links are built from it.",
    },
    "trusted_hosts": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "description": (
            "Without public_base_url: the Host header values accepted (Flask TRUSTED_HOSTS); "
            "any other Host gets 400, so a forged Host never reaches a card link."
        ),
    },
    "proxy_hops": {
        "type": "integer",
        "minimum": 0,
        "maximum": 5,
        "description": (
            "Reverse proxies in front of the service that set X-Forwarded-For/-Proto/-Host "
            "(werkzeug ProxyFix). 0: the forwarding headers are ignored."
        ),
    },
    "benchmark_mode": {
        "type": "boolean",
        "description": "Serve POST /_floor (the benchmark's floor). Never in production.",
    },
    "max_body_bytes": {"type": "integer", "minimum": 1024},
    "cors_allow_origin": {"type": "string"},
    "budget": {
        "type": "object",
        "additionalProperties": False,
        "description": "The time a hook call may take, end to end.",
        "properties": {
            "request_seconds": {"type": "number", "exclusiveMinimum": 0},
            "max_resources": {"type": "integer", "minimum": 1},
        },
    },
    "analytics": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "admin_token": {
                "type": ["string", "null"],
                "minLength": 32,
                "description": "A bearer token that may read /analytics besides the EHR's JWTs.",
            }
        },
    },
}


def get_configs_info() -> dict[str, dict[str, Any]]:
    """The configuration keys the web server declares (name -> JSON Schema)."""
    return dict(WEB_SCHEMA)
