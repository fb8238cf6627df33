"""Coder fixtures: charts written with the claim a certified coder expects (fixtures/coder/).

Each ``<family>/<name>.json`` is a whole hook request; ``<name>.expected.json`` holds the
expected lines per card (code, units, modifiers), the cards that must or must not fire, the
codes that must appear on no card, and the source. The card lines must equal the expected
lines (as a multiset: the order of lines on a card is not a coding decision).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from injection_cds.core.context import RuleContext
from injection_cds.protocol.pipeline import call_service
from injection_cds.reference.billing_config import context_from_config

ROOT = Path(__file__).resolve().parents[1]
CODER_DIR = ROOT / "fixtures" / "coder"
CROSSWALK = ROOT.parent / "shared" / "data" / "cms" / "asp-crosswalk-2026q1.csv"
CASES = sorted(CODER_DIR.glob("*/*.expected.json"))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.expected.json')}"


def _context(expected: dict[str, Any]) -> RuleContext:
    section: dict[str, Any] = {}
    if expected.get("crosswalk"):
        if not CROSSWALK.exists():
            pytest.skip(f"needs {CROSSWALK}")
        section["asp_crosswalk"] = str(CROSSWALK)
    if expected.get("profile"):
        section["profiles"] = {expected["payer"]: expected["profile"]}
    return context_from_config(section) if section else RuleContext()


def _key(line: dict[str, Any]) -> tuple[str, Any, tuple[str, ...]]:
    return (line["code"], line.get("units"), tuple(line.get("modifiers", ())))


def test_there_are_coder_fixtures_for_every_family() -> None:
    families = Counter(p.parent.name for p in CASES)
    assert set(families) == {"chemotherapy", "infusion", "flush", "vaccine"}
    assert sum(families.values()) >= 30


@pytest.mark.parametrize("expected_path", CASES, ids=_id)
def test_coder_fixture(expected_path: Path) -> None:
    expected = json.loads(expected_path.read_text("utf-8"))
    assert expected["source"].strip(), "every case names its source"
    body = json.loads(
        expected_path.with_name(expected_path.name.replace(".expected.json", ".json")).read_text()
    )
    response = call_service(
        "injection-charting", body, ctx=_context(expected), base_url="https://cds.example.org"
    ).response
    cards = {c["source"]["topic"]["code"]: c for c in response["cards"]}
    for rule, lines in expected["lines"].items():
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

    body = json.loads((CODER_DIR / "vaccine" / "medicare_flu_cvx_only.json").read_text())
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
            "injection-charting", request, ctx=RuleContext(), base_url="https://cds.example.org"
        ).response
        lines = [
            line["code"]
            for card in response["cards"]
            for line in card.get("extension", {}).get("org.injectioncds.lines", [])
        ]
        assert "96372" not in lines, (code, lines)
        rules = {c["source"]["topic"]["code"] for c in response["cards"]}
        assert ("BIL018" in rules) or (row.cpt in lines), (code, payer, rules, lines)
