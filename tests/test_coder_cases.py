"""Coder cases: the claim lines a certified coder writes for a chart, compared with the cards.

``fixtures/coder/<family>/<case>.json`` holds ``request`` (a whole CDS Hooks request),
``expected`` (``lines``: the claim lines, each ``code``, ``system``, ``units``,
``modifiers``, ``claim`` and, on drug lines, ``ndc``; ``source``: where the coding rule
comes from) and optionally ``settings`` (a ``[billing]`` configuration; paths relative to
the repository). Every ``org.injectioncds.lines`` entry of every card of the response is
one claim line; the fields the case names must match, in any order. An empty ``lines``
means nothing may be billed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from injection_cds.core.context import RuleContext
from injection_cds.protocol.audience import CardPolicy
from injection_cds.protocol.pipeline import call_service
from injection_cds.protocol.services import load_services
from injection_cds.reference.billing_config import context_from_config

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((ROOT / "fixtures" / "coder").glob("*/*.json"))
LINES = "org.injectioncds.lines"
PATH_SETTINGS = ("sad_list", "fda_ndc_packages", "asp_crosswalk")
# The lines are the billing review's (charting shows the clinician no billing card).
BILLING_REVIEW = CardPolicy.everywhere("billing")


def _context(settings: dict[str, Any] | None) -> RuleContext:
    if not settings:
        return RuleContext()
    billing = dict(settings.get("billing", {}))
    for key in PATH_SETTINGS:
        if key in billing:
            billing[key] = str(ROOT / billing[key])
    return context_from_config(billing)


def _service(hook: str) -> str:
    (found,) = [s.id for s in load_services().values() if s.hook == hook]
    return found


def card_lines(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Every claim line the cards propose for the case's request."""
    request = case["request"]
    result = call_service(
        _service(request["hook"]),
        request,
        ctx=_context(case.get("settings")),
        base_url="https://cds.example.org",
        policy=BILLING_REVIEW,
    )
    lines: list[dict[str, Any]] = []
    for card in result.response["cards"]:
        lines.extend(card.get("extension", {}).get(LINES, []))
    return lines


def _key(line: dict[str, Any], with_ndc: bool) -> str:
    shown = {
        "code": line["code"],
        "system": line["system"],
        "units": line.get("units"),
        "modifiers": sorted(line.get("modifiers", [])),
        "claim": line.get("claim"),
    }
    if with_ndc:
        shown["ndc"] = line.get("ndc")
    return json.dumps(shown, sort_keys=True)


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_coder_case(path: Path) -> None:
    case = json.loads(path.read_text("utf-8"))
    expected = case["expected"]
    assert expected["source"].strip(), "every case names its source"
    got = card_lines(case)
    with_ndc = any("ndc" in line for line in expected["lines"])
    want = sorted(_key(line, with_ndc and "ndc" in line) for line in expected["lines"])
    have = sorted(
        _key(
            line,
            with_ndc and any(e.get("ndc") for e in expected["lines"] if e["code"] == line["code"]),
        )
        for line in got
    )
    assert have == want, f"{path.name}: {expected['source']}"


def test_there_are_coder_cases_for_every_family() -> None:
    families = {p.parent.name for p in CASES}
    assert {"jwjz", "sad", "patient_supplied", "setting", "stops", "esa"} <= families
