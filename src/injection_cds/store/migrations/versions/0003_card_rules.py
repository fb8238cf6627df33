"""One ledger row per rule a card reports: a folded card counts for each of its rules.

Revision ID: 0003_card_rules
Revises: 0002_feedback_once
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision: str = "0003_card_rules"
down_revision: str | None = "0002_feedback_once"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.drop_constraint("uq_cards_card_uuid", type_="unique")
        batch.create_unique_constraint("uq_cards_card_uuid_rule", ["card_uuid", "rule_code"])


def downgrade() -> None:
    # Keeps the leading row of each card (the lowest id: its topic's rule).
    op.execute(
        "DELETE FROM cards WHERE id NOT IN (SELECT MIN(id) FROM cards GROUP BY card_uuid) "
        "AND card_uuid IS NOT NULL"
    )
    with op.batch_alter_table("cards") as batch:
        batch.drop_constraint("uq_cards_card_uuid_rule", type_="unique")
        batch.create_unique_constraint("uq_cards_card_uuid", ["card_uuid"])
