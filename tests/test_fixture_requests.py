"""Every committed request fixture is a valid CDS Hooks 2.0 request, and its response too."""

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from injection_cds.core.context import RuleContext
from injection_cds.protocol.pipeline import call_service
from injection_cds.protocol.services import load_services

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "cds_hooks" / "schemas"
REQUESTS = sorted(
    p
    for p in (ROOT / "fixtures").rglob("*.json")
    if not p.name.endswith((".response.json", ".feedback.json"))
)  # coder cases hold their request under "request"
FEEDBACK = sorted((ROOT / "fixtures").rglob("*.feedback.json"))
SERVICE_BY_HOOK = {s.hook: s.id for s in load_services().values()}


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    return Draft202012Validator(schema, format_checker=FormatChecker())


REQUEST = _validator("request")
RESPONSE = _validator("response")


def _errors(validator: Draft202012Validator, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_there_are_request_fixtures() -> None:
    assert len(REQUESTS) > 100


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: str(p.relative_to(ROOT / "fixtures")))
def test_fixture_is_a_valid_request_with_a_valid_response(path: Path) -> None:
    body = json.loads(path.read_text("utf-8"))
    if "request" in body and "expected" in body:  # a coder case (tests/test_coder_cases.py)
        body = body["request"]
    assert _errors(REQUEST, body) == []
    result = call_service(
        SERVICE_BY_HOOK[body["hook"]], body, ctx=RuleContext(), base_url="https://cds.example.org"
    )
    assert _errors(RESPONSE, result.response) == []


@pytest.mark.parametrize("path", FEEDBACK, ids=lambda p: str(p.relative_to(ROOT / "fixtures")))
def test_feedback_fixture_is_valid_feedback(path: Path) -> None:
    assert _errors(_validator("feedback"), json.loads(path.read_text("utf-8"))) == []


def test_there_are_feedback_fixtures() -> None:
    assert FEEDBACK
