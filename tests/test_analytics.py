"""Analytics on a known ledger: the numbers, the formats, the since filter, the CLI."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from injection_cds.cli.main import main
from injection_cds.store.analytics import (
    build_report,
    parse_since,
    render_html,
    report_csv,
    report_json,
    report_text,
)
from injection_cds.store.ledger import Store

pytest_plugins = ["storage_fixtures"]

JAN = datetime(2026, 1, 10, tzinfo=UTC)
MAR = datetime(2026, 3, 10, tzinfo=UTC)
KEY = b"analytics-test-key-0123456789abcdef"


def _card(uuid: str, rule: str) -> dict:
    return {"uuid": uuid, "indicator": "warning", "source": {"topic": {"code": rule}}}


def _fb(uuid: str, outcome: str, code: str | None = None, at: str = "2026-03-10T10:00:00Z") -> dict:
    item: dict = {"card": uuid, "outcome": outcome, "outcomeTimestamp": at}
    if outcome == "accepted":
        item["acceptedSuggestions"] = [{"id": "s"}]
    if code:
        item["overrideReason"] = {
            "reason": {"system": "urn:r", "code": code, "display": code.upper()}
        }
    return item


def _fill(store: Store) -> None:
    """DOC001: 10 cards (Jan 4, Mar 6); 3 accepted, 5 overridden (3 'dup', 1 'na', 1 no reason).
    DOC002: 4 cards in March; 1 card overridden then accepted later (latest wins: accepted).
    """
    store.ledger.record(
        "svc", "h", "i1", [_card(f"a{n}", "DOC001") for n in range(4)], "p", None, JAN
    )
    store.ledger.record(
        "svc", "h", "i2", [_card(f"a{n}", "DOC001") for n in range(4, 10)], "p", None, MAR
    )
    store.ledger.record(
        "svc", "h", "i3", [_card(f"b{n}", "DOC002") for n in range(4)], "p", None, MAR
    )
    items = [
        _fb("a0", "accepted"),
        _fb("a1", "overridden", "dup"),
        _fb("a4", "accepted"),
        _fb("a5", "accepted"),
        _fb("a6", "overridden", "dup"),
        _fb("a7", "overridden", "dup"),
        _fb("a8", "overridden", "na"),
        _fb("a9", "overridden"),
        _fb("b0", "overridden", "dup", "2026-03-10T10:00:00Z"),
        _fb("b0", "accepted", None, "2026-03-10T11:00:00Z"),
        _fb("ghost", "overridden", "dup"),
    ]
    store.feedback.record("svc", items, MAR)


@pytest.fixture
def filled(store: Store) -> Iterator[Store]:
    _fill(store)
    yield store


def test_numbers(filled: Store) -> None:
    report = build_report(filled)
    doc1, doc2 = report.rules
    assert (doc1.rule_code, doc1.shown, doc1.accepted, doc1.overridden) == ("DOC001", 10, 3, 5)
    assert doc1.override_rate == pytest.approx(0.5)
    assert doc1.no_feedback == 2
    assert [(r.code, r.count) for r in doc1.top_reasons] == [("dup", 3), ("na", 1), (None, 1)]
    assert (doc2.shown, doc2.accepted, doc2.overridden, doc2.override_rate) == (4, 1, 0, 0.0)
    assert report.unknown_card_feedback == 1
    assert report.totals == {"shown": 14, "accepted": 4, "overridden": 5}


def test_since(filled: Store) -> None:
    doc1 = build_report(filled, parse_since("2026-02-01")).rules[0]
    assert (doc1.shown, doc1.accepted, doc1.overridden) == (6, 2, 4)
    assert [(r.code, r.count) for r in doc1.top_reasons] == [("dup", 2), ("na", 1), (None, 1)]


def test_formats(filled: Store) -> None:
    report = build_report(filled, now=MAR)
    body = report_json(report)
    assert body["rules"][0]["overrideRate"] == 0.5
    assert body["rules"][0]["topOverrideReasons"][0] == {
        "system": "urn:r",
        "code": "dup",
        "display": "DUP",
        "count": 3,
    }
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert rows[0]["rule"] == "DOC001" and rows[0]["override_rate"] == "0.5000"
    assert rows[0]["top_override_reasons"].startswith("DUP (3); NA (1)")
    text = report_text(report)
    assert "DOC001" in text and "50.0%" in text
    html = render_html(report)
    assert "<svg" in html and "DOC001" in html and "DUP (3)" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "<script src" not in html


def test_parse_since() -> None:
    assert parse_since("2026-02-01") == datetime(2026, 2, 1, tzinfo=UTC)
    assert parse_since("2026-02-01T05:00:00+05:00") == datetime(2026, 2, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_since("last tuesday")


def test_http_json_and_html(tmp_path, make_app) -> None:
    with make_app(tmp_path) as app:
        _fill(app.extensions["injection_cds.store.ledger"])
        client = app.test_client()
        body = client.get("/analytics?since=2026-02-01").json
        assert body["rules"][0]["shown"] == 6
        page = client.get(
            "/analytics", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        )
        assert page.mimetype == "text/html" and b"<svg" in page.data
        assert client.get("/analytics", headers={"Accept": "*/*"}).mimetype == "application/json"
        bad = client.get("/analytics?since=soon")
        assert bad.status_code == 400 and bad.json["resourceType"] == "OperationOutcome"


def test_cli_report(sqlite_url: str) -> None:
    store = Store.from_url(sqlite_url, KEY)
    _fill(store)
    store.close()
    runner = CliRunner()
    result = runner.invoke(main, ["report", "--database-url", sqlite_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rules"][0]["overridden"] == 5
    result = runner.invoke(
        main, ["report", "--database-url", sqlite_url, "--since", "2026-02-01", "--format", "csv"]
    )
    assert result.exit_code == 0 and result.output.splitlines()[1].startswith("DOC001,6,2,4,")
    result = runner.invoke(main, ["report", "--database-url", sqlite_url])
    assert result.exit_code == 0 and "DOC001" in result.output
    result = runner.invoke(main, ["report", "--database-url", sqlite_url, "--since", "whenever"])
    assert result.exit_code != 0
