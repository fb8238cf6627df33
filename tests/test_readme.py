"""The README's rule table is generated from the registry and must stay current."""

from pathlib import Path

from injection_cds.rules import load_rules
from injection_cds.web.pages import README_TABLE_END, README_TABLE_START, readme_rule_table

REGISTRY = load_rules()

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_rule_table_is_current() -> None:
    text = README.read_text("utf-8")
    start = text.index(README_TABLE_START)
    end = text.index(README_TABLE_END) + len(README_TABLE_END)
    assert text[start:end] == readme_rule_table(), (
        "README rule table is stale: run `injection-cds rules-table` and paste it"
    )


def test_readme_table_lists_every_rule() -> None:
    table = readme_rule_table()
    for code in REGISTRY:
        assert f"| {code} |" in table


def test_readme_names_the_two_commands() -> None:
    text = README.read_text("utf-8")
    assert "make run" in text and "make test" in text
    ci = (README.parent / ".ci" / "run").read_text("utf-8")
    assert "make test" in ci


def test_rule_page_sources_join_wrapped_bullets() -> None:
    from injection_cds.web.pages import source_items

    text = "- Noridian checklist\n  (SOURCES-96372.md §4.1)\n- CPT 96372 descriptor"
    assert source_items(text) == [
        "Noridian checklist (SOURCES-96372.md §4.1)",
        "CPT 96372 descriptor",
    ]
