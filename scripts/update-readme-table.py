"""Rewrite the README's rule table from the rule registry."""

from pathlib import Path

from injection_cds.web.pages import README_TABLE_END, README_TABLE_START, readme_rule_table

readme = Path(__file__).resolve().parents[1] / "README.md"
text = readme.read_text("utf-8")
start = text.index(README_TABLE_START)
end = text.index(README_TABLE_END) + len(README_TABLE_END)
readme.write_text(text[:start] + readme_rule_table() + text[end:], "utf-8")
