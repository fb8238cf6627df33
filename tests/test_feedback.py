"""Feedback: the CDS Hooks 2.0 schema, the endpoint, and the round trip through the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from injection_cds.protocol.feedback import InvalidFeedback, parse_feedback

pytest_plugins = ["storage_fixtures"]

GOLDEN = Path(__file__).parent.parent / "fixtures/golden"
REQUEST = (
    GOLDEN
    / "org.injectioncds.medicationadministration-sign/two_injections_one_incomplete.request.json"
)
SERVICE = "injection-charting"
WHEN = "2026-03-01T12:05:00.52Z"


def _override(uuid: str, comment: str = "given elsewhere") -> dict:
    return {
        "card": uuid,
        "outcome": "overridden",
        "overrideReason": {
            "reason": {
                "system": "urn:injection-cds:override",
                "code": "documented-elsewhere",
                "display": "Documented elsewhere",
            },
            "userComment": comment,
        },
        "outcomeTimestamp": WHEN,
    }


def test_batch_and_single_object_are_accepted() -> None:
    accepted = {
        "card": "a",
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": "s"}],
        "outcomeTimestamp": WHEN,
    }
    assert parse_feedback({"feedback": [accepted, _override("b")]}) == [accepted, _override("b")]
    assert parse_feedback(_override("b")) == [_override("b")]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"feedback": []}, "feedback"),
        (
            {"feedback": [{"card": "a", "outcome": "ignored", "outcomeTimestamp": WHEN}]},
            "feedback[0].outcome",
        ),
        (
            {"feedback": [{"card": "a", "outcome": "accepted", "outcomeTimestamp": WHEN}]},
            "feedback[0]",
        ),  # accepted needs acceptedSuggestions
        (
            {"card": "a", "outcome": "overridden", "outcomeTimestamp": "yesterday"},
            "outcomeTimestamp",
        ),
        ({"card": "a", "outcome": "overridden"}, "(body)"),
        (
            {
                "card": "a",
                "outcome": "overridden",
                "outcomeTimestamp": WHEN,
                "overrideReason": {"reason": {"code": "x"}},
            },
            "overrideReason.reason",
        ),
        ([1, 2], "feedback"),
    ],
)
def test_invalid_bodies(body: object, where: str) -> None:
    with pytest.raises(InvalidFeedback) as caught:
        parse_feedback(body)
    assert caught.value.status == 400
    assert any(issue.expression == where for issue in caught.value.issues)


def test_error_never_quotes_the_body() -> None:
    body = _override("a", comment="Mrs Jane Roe, MRN 5566")
    body["outcomeTimestamp"] = "Jane Roe 1950-01-01"
    with pytest.raises(InvalidFeedback) as caught:
        parse_feedback(body)
    text = json.dumps(caught.value.operation_outcome())
    assert "Jane" not in text and "5566" not in text and "1950" not in text


def _rules(card: dict[str, object]) -> set[str]:
    return {f["rule"] for f in card["extension"]["org.injectioncds.findings"]}  # type: ignore[index]


def _round_trip(client) -> list[dict[str, object]]:
    response = client.post(f"/cds-services/{SERVICE}", json=json.loads(REQUEST.read_text()))
    assert response.status_code == 200
    cards = response.json["cards"]
    uuids = [card["uuid"] for card in cards]
    assert uuids
    posted = client.post(
        f"/cds-services/{SERVICE}/feedback",
        json={"feedback": [_override(uuids[0]), _override("not-a-card-we-issued")]},
    )
    assert posted.status_code == 200
    assert posted.json == {"stored": 2, "unknownCards": ["not-a-card-we-issued"]}
    single = client.post(f"/cds-services/{SERVICE}/feedback", json=_override(uuids[-1]))
    assert single.status_code == 200 and single.json == {"stored": 1}
    return cards


def test_round_trip_and_restart_sqlite(tmp_path: Path, make_app) -> None:
    with make_app(tmp_path) as app:
        cards = _round_trip(app.test_client())
    uuids = [card["uuid"] for card in cards]
    # the last card folds the administration's warnings (site, lot): feedback counts for each
    folded = _rules(cards[-1])
    assert len(folded) > 1
    with make_app(tmp_path) as app:  # a restart: a new app, a new store, the same file
        store = app.extensions["injection_cds.store.ledger"]
        rows = store.queries.feedback_rows()
        assert {r["card_uuid"] for r in rows} == {uuids[0], uuids[-1], "not-a-card-we-issued"}
        assert [r["known_card"] for r in rows if r["card_uuid"] == uuids[0]] == [True]
        analytics = app.test_client().get("/analytics").json
        assert analytics["totals"]["overridden"] == len(_rules(cards[0])) + len(folded)
        by_rule = {row["rule"]: row for row in analytics["rules"]}
        for rule in folded:
            assert by_rule[rule]["shown"] == 1 and by_rule[rule]["overridden"] == 1, rule
        assert analytics["unknownCardFeedback"] == 1


@pytest.mark.postgres
def test_round_trip_postgresql(tmp_path: Path, make_app, postgres_url: str) -> None:
    with make_app(tmp_path, database_url=postgres_url) as app:
        uuids = [card["uuid"] for card in _round_trip(app.test_client())]
        rows = app.extensions["injection_cds.store.ledger"].queries.feedback_rows()
        assert {r["card_uuid"] for r in rows} == {uuids[0], uuids[-1], "not-a-card-we-issued"}


def test_invalid_feedback_is_400_operation_outcome(tmp_path: Path, make_app) -> None:
    with make_app(tmp_path) as app:
        client = app.test_client()
        response = client.post(f"/cds-services/{SERVICE}/feedback", json={"feedback": [{}]})
        assert response.status_code == 400
        assert response.json["resourceType"] == "OperationOutcome"
        unknown = client.post("/cds-services/nope/feedback", json=_override("a"))
        assert unknown.status_code == 404
        assert app.extensions["injection_cds.store.ledger"].queries.feedback_rows() == []
