"""The rule catalog: codes, documentation, fixtures, and agreement with RULES.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from injection_cds.rules import load_rules, rules_in_order

REGISTRY = load_rules()


ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = ROOT / "fixtures" / "rules"
RULES_MD = ROOT / "docs" / "RULES.md"  # the project's own copy of the rule catalog
CODE = re.compile(r"^(DOC|BIL)\d{3}$")
SEVERITIES = ("info", "warning", "critical")
DOC_SECTIONS = ("summary", "why", "fix", "bad", "good", "sources")


def test_codes_are_unique_and_well_formed() -> None:
    codes = [rule.code for rule in rules_in_order()]
    assert len(codes) == len(set(codes))
    assert all(CODE.match(code) for code in codes), codes
    for code, rule in REGISTRY.items():
        assert rule.code == code
        expected_family = "documentation" if code.startswith("DOC") else "billing"
        assert rule.family == expected_family, code


def test_documentation_rules_are_all_there() -> None:
    documentation = {c for c in REGISTRY if c.startswith("DOC")}
    assert {f"DOC{n:03d}" for n in range(1, 15)} | {"DOC016", "DOC017"} <= documentation


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_rule_is_documented(code: str) -> None:
    doc = REGISTRY[code].doc
    missing = [name for name in DOC_SECTIONS if not getattr(doc, name).strip()]
    assert not missing, f"{code} docstring lacks: {missing}"
    assert len(doc.summary) < 140, "the summary becomes a card summary (< 140 characters)"
    assert doc.summary.endswith("."), "the summary is one sentence"


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_rule_has_pass_and_fail_fixtures(code: str) -> None:
    folder = RULES_DIR / code
    assert list(folder.glob("pass_*.json")), f"no fixtures/rules/{code}/pass_*.json"
    assert list(folder.glob("fail_*.json")), f"no fixtures/rules/{code}/fail_*.json"


# --- agreement with the contract ---------------------------------------------------------
def rules_md_table() -> dict[str, str]:
    """``code -> severity cell`` of the rule tables in RULES.md."""
    if not RULES_MD.exists():
        pytest.skip(f"{RULES_MD} is not here (the shared folder is outside the repo)")
    rows: dict[str, str] = {}
    for line in RULES_MD.read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and CODE.match(cells[0]):
            assert cells[0] not in rows, f"{cells[0]} appears twice in RULES.md"
            rows[cells[0]] = cells[1]
    assert rows, "no rule rows found in RULES.md"
    return rows


def default_severity(cell: str) -> tuple[str | None, set[str]]:
    """The default severity a cell states, and every severity it mentions.

    ``warning`` -> warning; ``warning; critical when ...`` -> warning (the rest is the
    exception); ``critical for 99211; warning for 99202–99215`` -> no single default.
    """
    mentioned = {word for word in re.findall(r"[a-z]+", cell.lower()) if word in SEVERITIES}
    head = cell.split(";")[0].strip().lower()
    return (head if head in SEVERITIES else None), mentioned


def test_registered_codes_match_rules_md() -> None:
    table = rules_md_table()
    assert set(REGISTRY) == set(table)


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_default_severity_matches_rules_md(code: str) -> None:
    table = rules_md_table()
    if code not in table:
        pytest.fail(f"{code} is not in RULES.md")
    default, mentioned = default_severity(table[code])
    assert mentioned, f"RULES.md gives {code} no severity: {table[code]!r}"
    if default is not None:
        assert REGISTRY[code].severity == default
    else:
        assert REGISTRY[code].severity in mentioned


def test_severity_parser() -> None:
    assert default_severity("critical") == ("critical", {"critical"})
    assert default_severity("warning; critical when the payer is Medicaid") == (
        "warning",
        {"warning", "critical"},
    )
    assert default_severity("critical for 99211; warning for 99202–99215") == (
        None,
        {"critical", "warning"},
    )
