"""Feedback stored once: a unique index on (card_uuid, outcome, outcome_at).

A client that retries a feedback request after a dropped connection sends the same items
again; they must not count twice. Duplicates already stored are removed first (the oldest
row of each is kept).

Revision ID: 0002_feedback_once
Revises: 0001_ledger
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision: str = "0002_feedback_once"
down_revision: str | None = "0001_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM feedback WHERE id NOT IN ("
        " SELECT keep FROM ("
        "  SELECT MIN(id) AS keep FROM feedback GROUP BY card_uuid, outcome, outcome_at"
        " ) AS kept)"
    )
    op.create_index(
        "ux_feedback_card_outcome_at",
        "feedback",
        ["card_uuid", "outcome", "outcome_at"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_feedback_card_outcome_at", table_name="feedback")
