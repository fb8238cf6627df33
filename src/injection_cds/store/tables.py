"""The ledger's tables: cards issued, feedback received, JWT ids seen (SQLAlchemy Core).

The schema itself is Alembic's (``migrations/``); these definitions are what the store
queries and what ``migrations/env.py`` compares against.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and read back as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to naive UTC (naive input is taken to be UTC already)."""
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


_BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

cards = Table(
    "cards",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("card_uuid", String(256), nullable=True),
    Column("service_id", String(128), nullable=False),
    Column("hook", String(128), nullable=False),
    Column("hook_instance", String(256), nullable=False),
    Column("rule_code", String(64), nullable=False),
    Column("indicator", String(16), nullable=False),
    Column("patient_hash", String(64), nullable=True),
    Column("encounter_hash", String(64), nullable=True),
    Column("issued_at", UTCDateTime(), nullable=False),
    # One row per rule a card reports (a folded card reports several).
    UniqueConstraint("card_uuid", "rule_code", name="uq_cards_card_uuid_rule"),
    Index("ix_cards_rule_issued", "rule_code", "issued_at"),
    Index("ix_cards_issued_at", "issued_at"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("service_id", String(128), nullable=False),
    Column("card_uuid", String(256), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("accepted_suggestions", JSON(), nullable=True),
    Column("override_system", String(512), nullable=True),
    Column("override_code", String(256), nullable=True),
    Column("override_display", String(512), nullable=True),
    Column("user_comment", Text(), nullable=True),
    Column("outcome_at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("known_card", Boolean(), nullable=False),
    Index("ix_feedback_card_uuid", "card_uuid"),
    # The same feedback sent again (a retry) is stored once (migration 0002).
    Index("ux_feedback_card_outcome_at", "card_uuid", "outcome", "outcome_at", unique=True),
)

seen_jti_table = Table(
    "seen_jti",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_seen_jti_expires_at", "expires_at"),
)
