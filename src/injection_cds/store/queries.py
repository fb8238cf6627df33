"""The ledger's reads: per-rule counts, override reasons, and the raw rows (tests, reports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from injection_cds.store.engine import Database
from injection_cds.store.tables import cards, feedback


@dataclass(frozen=True)
class RuleCounts:
    """Per rule: cards shown and the cards whose latest feedback is accepted / overridden."""

    rule_code: str
    shown: int
    accepted: int
    overridden: int


@dataclass(frozen=True)
class ReasonCount:
    """How often one override reason was given for one rule."""

    rule_code: str
    system: str | None
    code: str | None
    display: str | None
    count: int


class LedgerQueries:
    """Reads of the card ledger and the feedback store."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def rule_counts(self, since: datetime | None = None) -> list[RuleCounts]:
        """Per rule: cards issued since ``since``; how many were last accepted / overridden."""
        latest = _latest_feedback()
        shown_q = select(cards.c.rule_code, func.count()).group_by(cards.c.rule_code)
        outcome_q = (
            select(cards.c.rule_code, latest.c.outcome, func.count())
            .join(latest, latest.c.card_uuid == cards.c.card_uuid)
            .where(latest.c.rn == 1)
            .group_by(cards.c.rule_code, latest.c.outcome)
        )
        if since is not None:
            shown_q = shown_q.where(cards.c.issued_at >= since)
            outcome_q = outcome_q.where(cards.c.issued_at >= since)
        with self._db.read() as conn:
            shown = {str(code): int(n) for code, n in conn.execute(shown_q)}
            outcomes: dict[tuple[str, str], int] = {
                (str(code), str(outcome)): int(n) for code, outcome, n in conn.execute(outcome_q)
            }
        return [
            RuleCounts(
                rule_code=code,
                shown=n,
                accepted=outcomes.get((code, "accepted"), 0),
                overridden=outcomes.get((code, "overridden"), 0),
            )
            for code, n in sorted(shown.items())
        ]

    def override_reasons(self, since: datetime | None = None) -> list[ReasonCount]:
        """Per rule and reason: how many cards were last overridden with that reason."""
        latest = _latest_feedback()
        query = (
            select(
                cards.c.rule_code,
                latest.c.override_system,
                latest.c.override_code,
                func.max(latest.c.override_display),
                func.count(),
            )
            .join(latest, latest.c.card_uuid == cards.c.card_uuid)
            .where(latest.c.rn == 1, latest.c.outcome == "overridden")
            .group_by(cards.c.rule_code, latest.c.override_system, latest.c.override_code)
        )
        if since is not None:
            query = query.where(cards.c.issued_at >= since)
        with self._db.read() as conn:
            return [
                ReasonCount(str(rule), system, code, display, int(n))
                for rule, system, code, display, n in conn.execute(query)
            ]

    def unknown_feedback_count(self, since: datetime | None = None) -> int:
        """Feedback items whose card uuid was not in the ledger when they arrived."""
        query = select(func.count()).select_from(feedback).where(feedback.c.known_card.is_(False))
        if since is not None:
            query = query.where(feedback.c.received_at >= since)
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def feedback_rows(self, card_uuid: str | None = None) -> list[dict[str, Any]]:
        """Stored feedback items (all, or one card's), oldest first."""
        query = select(feedback).order_by(feedback.c.id)
        if card_uuid is not None:
            query = query.where(feedback.c.card_uuid == card_uuid)
        with self._db.read() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def card_rows(self) -> list[dict[str, Any]]:
        """Every ledger row, oldest first."""
        with self._db.read() as conn:
            return [
                dict(row) for row in conn.execute(select(cards).order_by(cards.c.id)).mappings()
            ]


def _latest_feedback() -> Any:
    rank = (
        func.row_number()
        .over(
            partition_by=feedback.c.card_uuid,
            order_by=(feedback.c.outcome_at.desc(), feedback.c.id.desc()),
        )
        .label("rn")
    )
    return select(
        feedback.c.card_uuid,
        feedback.c.outcome,
        feedback.c.override_system,
        feedback.c.override_code,
        feedback.c.override_display,
        rank,
    ).subquery("latest")
