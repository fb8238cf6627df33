"""The card ledger, feedback and the shared JWT replay table.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001_ledger"
down_revision: str | None = None
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cards",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("card_uuid", sa.String(256), nullable=True),
        sa.Column("service_id", sa.String(128), nullable=False),
        sa.Column("hook", sa.String(128), nullable=False),
        sa.Column("hook_instance", sa.String(256), nullable=False),
        sa.Column("rule_code", sa.String(64), nullable=False),
        sa.Column("indicator", sa.String(16), nullable=False),
        sa.Column("patient_hash", sa.String(64), nullable=True),
        sa.Column("encounter_hash", sa.String(64), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("card_uuid", name="uq_cards_card_uuid"),
    )
    op.create_index("ix_cards_rule_issued", "cards", ["rule_code", "issued_at"])
    op.create_index("ix_cards_issued_at", "cards", ["issued_at"])

    op.create_table(
        "feedback",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("service_id", sa.String(128), nullable=False),
        sa.Column("card_uuid", sa.String(256), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("accepted_suggestions", sa.JSON(), nullable=True),
        sa.Column("override_system", sa.String(512), nullable=True),
        sa.Column("override_code", sa.String(256), nullable=True),
        sa.Column("override_display", sa.String(512), nullable=True),
        sa.Column("user_comment", sa.Text(), nullable=True),
        sa.Column("outcome_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("known_card", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_feedback_card_uuid", "feedback", ["card_uuid"])

    op.create_table(
        "seen_jti",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_seen_jti_expires_at", "seen_jti", ["expires_at"])


def downgrade() -> None:
    op.drop_table("seen_jti")
    op.drop_table("feedback")
    op.drop_table("cards")
