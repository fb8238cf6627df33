"""Feedback bodies: validated against ``cds_hooks/schemas/feedback.schema.json``.

CDS Hooks 2.0 sends ``{"feedback": [...]}``; some EHRs send one feedback object on its own, so
that is accepted too. Error messages name where the body is wrong and why, never a value from
it (a ``userComment`` is free text and may hold PHI).
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import jsonschema

from injection_cds.protocol.errors import BadRequest, Issue

SCHEMA_RESOURCE = ("cds_hooks", "schemas", "feedback.schema.json")
_MAX_ISSUES = 10
_TIMESTAMP_RULE = "must be an RFC 3339 date-time in UTC, e.g. 2026-01-01T12:00:00Z"


class InvalidFeedback(BadRequest):
    """The feedback body does not follow the CDS Hooks 2.0 feedback schema (400)."""


@functools.cache
def feedback_schema() -> dict[str, Any]:
    """The JSON Schema of a feedback request (CDS Hooks 2.0)."""
    resource = resources.files("injection_cds")
    for part in SCHEMA_RESOURCE:
        resource = resource.joinpath(part)
    schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return schema


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = feedback_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _where(path: list[str | int]) -> str:
    where = ""
    for part in path:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    return where.lstrip(".") or "(body)"


def _describe(error: jsonschema.ValidationError) -> str:
    """Why the body is wrong, in words that never quote the offending value."""
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "required":
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [
            str(name)
            for name in required
            if isinstance(error.instance, dict) and name not in error.instance
        ]
        return f"missing required field(s): {', '.join(missing)}"
    if kind == "enum":
        allowed = error.validator_value if isinstance(error.validator_value, list) else []
        return "must be one of: " + ", ".join(str(v) for v in allowed)
    if kind == "const":
        return f"must be {error.validator_value!r}"
    if kind == "type":
        return f"must be of type {error.validator_value}"
    if kind == "pattern" and schema.get("format") == "date-time":
        return _TIMESTAMP_RULE
    if kind in ("minItems", "minLength", "minProperties"):
        return "must not be empty"
    if kind == "maxLength":
        return f"must be at most {error.validator_value} characters"
    return f"does not satisfy '{kind}'"


def _check(document: Any, *, single: bool) -> None:
    validator = _validator()
    if single:
        schema = feedback_schema()["$defs"]["feedback"]
        errors = list(validator.evolve(schema=schema).iter_errors(document))
    else:
        errors = list(validator.iter_errors(document))
    if not errors:
        return
    errors.sort(key=lambda e: [str(p) for p in e.absolute_path])
    issues = [
        Issue(f"{_where(list(e.absolute_path))}: {_describe(e)}", _where(list(e.absolute_path)))
        for e in errors[:_MAX_ISSUES]
    ]
    raise InvalidFeedback(issues[0].diagnostics, issues=issues)


def _check_timestamp(item: dict[str, Any], where: str) -> None:
    """The schema's pattern passes a time whose UTC instant is past year 9999 (or before 1)."""
    try:
        parse_timestamp(item["outcomeTimestamp"])
    except ValueError:
        raise InvalidFeedback(f"{where}: {_TIMESTAMP_RULE}", where=where) from None


def parse_feedback(body: Any) -> list[dict[str, Any]]:
    """The feedback items of a request body, validated; raises ``InvalidFeedback``."""
    if isinstance(body, dict) and "feedback" in body:
        _check(body, single=False)
        items: list[dict[str, Any]] = body["feedback"]
        for index, item in enumerate(items):
            _check_timestamp(item, f"feedback[{index}].outcomeTimestamp")
        return items
    if isinstance(body, dict) and "card" in body:
        _check(body, single=True)
        _check_timestamp(body, "outcomeTimestamp")
        return [body]
    raise InvalidFeedback(
        "the body must be {\"feedback\": [...]} or a single feedback object with a 'card'",
        where="feedback",
    )


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime (naive input is taken as UTC).

    ``ValueError`` when it is not one, or when its UTC instant is outside years 1 to 9999
    (``9999-12-31T23:59:59-14:00``).
    """
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    stamp = datetime.fromisoformat(text.replace("t", "T", 1))
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=UTC)
    try:
        return stamp.astimezone(UTC)
    except OverflowError:
        raise ValueError("the date-time is out of range in UTC") from None
