"""Coder fixtures of the infusion, chemotherapy, flush and vaccine families, card by card.

``fixtures/coder/<family>/<case>.json`` (written by tests/coder_fixture_factory.py) holds
the request and the claim a coder expects; tests/test_coder_cases.py compares every line of
the response with ``expected.lines``. This test reads the rest of what these families'
cases say: the lines of each card (``by_card``: a line is on the card that proposes it), the
cards that must or must not fire, and the codes no card may propose (a vaccine is never
96372; a flush is never billed).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from injection_cds.core.context import RuleContext
from injection_cds.protocol.audience import CardPolicy
from injection_cds.protocol.pipeline import call_service
from injection_cds.reference.billing_config import context_from_config

ROOT = Path(__file__).resolve().parents[1]
# The cards a coder reads: the billing review (charting shows the clinician no billing card).
BILLING_REVIEW = CardPolicy.everywhere("billing")
CODER_DIR = ROOT / "fixtures" / "coder"
FAMILIES = ("chemotherapy", "infusion", "flush", "vaccine")
CASES = sorted(p for family in FAMILIES for p in (CODER_DIR / family).glob("*.json"))
PATH_SETTINGS = ("asp_crosswalk",)


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _context(settings: dict[str, Any] | None) -> RuleContext:
    if not settings:
        return RuleContext()
    billing = dict(settings["billing"])
    for key in PATH_SETTINGS:
        if key in billing:
            path = ROOT / billing[key]
            if not path.exists():
                pytest.skip(f"needs {path}")
            billing[key] = str(path)
    return context_from_config(billing)


def _key(line: dict[str, Any]) -> tuple[Any, ...]:
    return (
        line["code"],
        line["system"],
        line.get("units"),
        tuple(sorted(line.get("modifiers", ()))),
        line.get("claim"),
    )


def test_there_are_coder_fixtures_for_every_family() -> None:
    families = Counter(p.parent.name for p in CASES)
    assert set(families) == set(FAMILIES)
    assert sum(families.values()) >= 30


@pytest.mark.parametrize("path", CASES, ids=_id)
def test_coder_fixture_card_by_card(path: Path) -> None:
    case = json.loads(path.read_text("utf-8"))
    expected = case["expected"]
    assert expected["source"].strip(), "every case names its source"
    response = call_service(
        "injection-charting",
        case["request"],
        ctx=_context(case.get("settings")),
        base_url="https://cds.example.org",
        policy=BILLING_REVIEW,
    ).response
    cards = {c["source"]["topic"]["code"]: c for c in response["cards"]}
    for rule, lines in expected["by_card"].items():
        assert rule in cards, f"{rule} did not fire; cards: {sorted(cards)}"
        got = Counter(_key(line) for line in cards[rule]["extension"]["org.injectioncds.lines"])
        assert got == Counter(_key(line) for line in lines), cards[rule]["detail"]
    for rule in expected.get("cards", []):
        assert rule in cards, f"{rule} did not fire; cards: {sorted(cards)}"
    for rule in expected.get("absent", []):
        assert rule not in cards, cards[rule]["detail"]
    every_code = {
        line["code"]
        for card in response["cards"]
        for line in card.get("extension", {}).get("org.injectioncds.lines", [])
    }
    assert not every_code & set(expected.get("never", [])), every_code


@pytest.mark.parametrize("payer", ["medicare", "medicaid", "commercial"])
@pytest.mark.parametrize("birth", ["1950-01-01", "2020-01-01"])
def test_no_vaccine_of_the_cvx_table_is_ever_96372(payer: str, birth: str) -> None:
    """Every shipped CVX code, given IM, under every payer and age: never 96372, a product line."""
    from injection_cds.reference.coding_tables import shipped_vaccine_products

    body = json.loads((CODER_DIR / "vaccine" / "medicare_flu_cvx_only.json").read_text())["request"]
    typology = {"medicare": "1", "medicaid": "2", "commercial": "5"}[payer]
    for code, row in shipped_vaccine_products().by_cvx.items():
        request = json.loads(json.dumps(body))
        administration = request["context"]["medicationAdministrations"]["entry"][0]["resource"]
        administration["contained"][0]["code"] = {
            "coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": code}]
        }
        request["prefetch"]["patient"]["birthDate"] = birth
        coverage = request["prefetch"]["coverage"]["entry"][0]["resource"]
        coverage["type"]["coding"][0]["code"] = typology
        response = call_service(
            "injection-charting",
            request,
            ctx=RuleContext(),
            base_url="https://cds.example.org",
            policy=BILLING_REVIEW,
        ).response
        lines = [
            line["code"]
            for card in response["cards"]
            for line in card.get("extension", {}).get("org.injectioncds.lines", [])
        ]
        assert "96372" not in lines, (code, lines)
        rules = {c["source"]["topic"]["code"] for c in response["cards"]}
        assert ("BIL018" in rules) or (row.cpt in lines), (code, payer, rules, lines)
