"""Logging as JSON lines, with no PHI: no resource content, names, identifiers or tokens.

A request log line carries only: service, hook, hookInstance, method, path (no query string),
status, duration and the rule codes fired; plus, for an authenticated call, the JWT's ``iss``
and ``jti`` (the spec's best practice allows these; never the token). Exceptions are logged by
type and stack frames only: an exception's message may quote request content, so it is
dropped. Every value that comes from the client is checked against a strict pattern and
replaced by ``"<invalid>"`` when it does not match, so free text cannot slip in.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import IO, Any

REQUEST_LOGGER = "injection_cds.request"
SERVICE_NAME = "injection-cds"

#: Extra fields a log record may carry into the JSON line; anything else is dropped.
ALLOWED_FIELDS = (
    "service",
    "hook",
    "hookInstance",
    "method",
    "path",
    "status",
    "duration_ms",
    "rules",
    "cards",
    "iss",
    "jti",
    "reason",
    "stored",
    "unknown_cards",
)
_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9._:/@+-]{1,200}$")
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._~/-]{0,300}$")
_RULE_CODE = re.compile(r"^[A-Z]{2,8}[0-9]{1,5}$")
_INVALID = "<invalid>"


def safe_token(value: object) -> str | None:
    """A short identifier-like value from the client, or ``<invalid>``."""
    if value is None:
        return None
    text = str(value)
    return text if _SAFE_TOKEN.match(text) else _INVALID


def safe_path(value: str | None) -> str | None:
    """A URL path without its query string, or ``<invalid>``."""
    if value is None:
        return None
    path = value.split("?", 1)[0]
    return path if _SAFE_PATH.match(path) else _INVALID


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the allowed extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record; exceptions as type and frames only."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ALLOWED_FIELDS:
            if record.__dict__.get(name) is not None:
                line[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
            frames = traceback.extract_tb(record.exc_info[2])
            line["stack"] = [f"{f.filename}:{f.lineno} in {f.name}" for f in frames]
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str | int = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send the ``injection_cds`` loggers to ``stream`` (stderr) as JSON lines.

    Werkzeug's own access log is silenced below WARNING: it prints the query string.
    Returns the handler (tests remove it again).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.set_name("injection_cds.json")
    root = logging.getLogger("injection_cds")
    for existing in list(root.handlers):
        if existing.get_name() == "injection_cds.json":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return handler


def log_request(
    *,
    service: str | None,
    hook: str | None,
    hook_instance: str | None,
    method: str,
    path: str | None,
    status: int,
    duration_ms: float,
    rules: Sequence[str] = (),
    iss: str | None = None,
    jti: str | None = None,
    reason: str | None = None,
    logger: logging.Logger | None = None,
) -> None:
    """Log one request: only the fields listed here, each checked."""
    fired = sorted({code for code in rules if _RULE_CODE.match(code)})
    extra: dict[str, Any] = {
        "service": safe_token(service),
        "hook": safe_token(hook),
        "hookInstance": safe_token(hook_instance),
        "method": safe_token(method),
        "path": safe_path(path),
        "status": int(status),
        "duration_ms": round(float(duration_ms), 2),
        "rules": fired,
    }
    if iss is not None:
        extra["iss"] = safe_token(iss)
    if jti is not None:
        extra["jti"] = safe_token(jti)
    if reason is not None:
        extra["reason"] = reason  # from security.Unauthorized: fixed text, never client data
    target = logger or logging.getLogger(REQUEST_LOGGER)
    level = logging.WARNING if status >= 500 else logging.INFO
    target.log(level, "request", extra=extra)
