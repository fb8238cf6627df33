"""The feedback store: every CDS Hooks feedback item, once.

Feedback for a card uuid the ledger does not know is stored and flagged. An item is stored
once: the same card, outcome and outcome time sent again (a retry after a dropped
connection) is recognised by a unique index and not stored a second time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from injection_cds.protocol.feedback import parse_timestamp
from injection_cds.store.cards import insert_ignore
from injection_cds.store.engine import Database
from injection_cds.store.tables import cards, feedback
from injection_cds.store.values import clip

_COMMENT_MAX = 2000
_IDEMPOTENCY_KEY = ["card_uuid", "outcome", "outcome_at"]


@dataclass(frozen=True)
class FeedbackResult:
    """What ``record`` stored: the item count and the card uuids the ledger lacks."""

    stored: int
    unknown_cards: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The feedback endpoint's response body."""
        body: dict[str, Any] = {"stored": self.stored}
        if self.unknown_cards:
            body["unknownCards"] = list(self.unknown_cards)
        return body


class FeedbackStore:
    """Writes feedback items."""

    def __init__(self, database: Database, *, store_user_comments: bool = True) -> None:
        self._db = database
        self._keep_comments = store_user_comments

    def record(
        self,
        service_id: str,
        items: Sequence[Mapping[str, Any]],
        at: datetime | None = None,
    ) -> FeedbackResult:
        """Store every (schema-valid) feedback item; unknown card uuids are stored and flagged.

        ``stored`` counts the items now in the store, including those an earlier retry of the
        same request stored: a retried request gets the same answer.
        """
        if not items:
            return FeedbackResult(0, ())
        received = at or datetime.now(UTC)
        uuids = {clip(item["card"], 256) or "" for item in items}
        with self._db.write() as conn:
            known = set(
                conn.execute(
                    select(cards.c.card_uuid).where(cards.c.card_uuid.in_(sorted(uuids)))
                ).scalars()
            )
            rows = [self._row(service_id, item, received, known) for item in items]
            conn.execute(insert_ignore(conn, feedback, _IDEMPOTENCY_KEY), rows)
        unknown = tuple(dict.fromkeys(r["card_uuid"] for r in rows if not r["known_card"]))
        return FeedbackResult(len(rows), unknown)

    def _row(
        self, service_id: str, item: Mapping[str, Any], received: datetime, known: set[str]
    ) -> dict[str, Any]:
        reason = item.get("overrideReason") or {}
        coding = reason.get("reason") or {}
        comment = reason.get("userComment") if self._keep_comments else None
        suggestions = [
            clip(s["id"], 256)
            for s in item.get("acceptedSuggestions") or []
            if isinstance(s, Mapping)
        ]
        card_uuid = clip(item["card"], 256) or ""
        stamp = item.get("outcomeTimestamp")
        return {
            "service_id": clip(service_id, 128) or "",
            "card_uuid": card_uuid,
            "outcome": clip(item["outcome"], 16) or "",
            "accepted_suggestions": suggestions or None,
            "override_system": clip(coding.get("system"), 512),
            "override_code": clip(coding.get("code"), 256),
            "override_display": clip(coding.get("display"), 512),
            "user_comment": clip(comment, _COMMENT_MAX),
            "outcome_at": parse_timestamp(stamp) if isinstance(stamp, str) else received,
            "received_at": received,
            "known_card": card_uuid in known,
        }
