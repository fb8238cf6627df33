"""The store the service opens: card ledger, feedback, JWT replay table and their reads.

SQLAlchemy 2, SQLite by default, PostgreSQL by URL. ``Store`` puts the parts together on one
database (``engine``); each part does one job in its own module:

- ``keys``: the secret that hashes patient and encounter ids (never a raw id in the ledger);
- ``engine``: the per-process engine, transactions, timeouts, migrations, a replaced file;
- ``cards``: the card ledger writes; ``feedback``: feedback writes, each item stored once;
- ``replay``: the shared ``jti`` check (and its per-process fallback);
- ``queries``: the reads behind analytics and reports;
- ``guard``: database calls made for a request, under a bounded wait, with a breaker.

Safe with several gunicorn workers: every write is one short transaction (``BEGIN IMMEDIATE``
on SQLite, so a reader never has to upgrade its lock; WAL journal; a busy timeout), and the
engine is created lazily in each process, after the fork. The schema is Alembic's: the store
runs ``upgrade head`` when it is opened, serialized across processes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from injection_cds.store.cards import CardLedger
from injection_cds.store.engine import Database, default_database_url
from injection_cds.store.feedback import FeedbackResult, FeedbackStore
from injection_cds.store.guard import DatabaseGuard
from injection_cds.store.keys import hash_key_from_config, load_or_create_hash_key
from injection_cds.store.queries import LedgerQueries, ReasonCount, RuleCounts
from injection_cds.store.replay import GuardedReplayCheck, ReplayTable
from injection_cds.store.tables import cards, feedback, metadata, seen_jti_table

__all__ = [
    "STORE_SCHEMA",
    "FeedbackResult",
    "ReasonCount",
    "RuleCounts",
    "Store",
    "cards",
    "default_database_url",
    "feedback",
    "get_configs_info",
    "load_or_create_hash_key",
    "metadata",
    "seen_jti_table",
    "store_from_config",
]

#: The configuration keys the store owns (a JSON Schema fragment of the top-level object).
STORE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "database_url": {
            "type": ["string", "null"],
            "minLength": 1,
            "description": (
                "SQLAlchemy URL of the ledger. Default: a SQLite file in the instance directory. "
                "PostgreSQL: postgresql+psycopg://user@host:5432/dbname"
            ),
        },
        "hash_key": {
            "type": ["string", "null"],
            "minLength": 32,  # a 256-bit HMAC key
            "description": (
                "Secret key of the HMAC-SHA256 that hashes patient and encounter ids. "
                "Default: generated once into <instance>/hash_key. Every node that shares a "
                "database must share this key."
            ),
        },
        "store_user_comments": {
            "type": "boolean",
            "default": True,
            "description": "Keep feedback overrideReason.userComment (free text) in the store.",
        },
        "sqlite_busy_timeout_ms": {"type": "integer", "minimum": 0, "default": 15000},
        "database": {
            "type": "object",
            "additionalProperties": False,
            "description": "Timeouts of the ledger's database, and how requests wait for it.",
            "properties": {
                "connect_timeout_seconds": {"type": "number", "exclusiveMinimum": 0},
                "statement_timeout_ms": {"type": "integer", "minimum": 1},
                "request_wait_seconds": {"type": "number", "exclusiveMinimum": 0},
                "retry_seconds": {"type": "number", "exclusiveMinimum": 0},
                "stall_seconds": {"type": "number", "exclusiveMinimum": 0},
            },
        },
    },
}

DATABASE_DEFAULTS: dict[str, Any] = {
    "connect_timeout_seconds": 2.0,  # libpq's minimum is 2 s
    "statement_timeout_ms": 5000,
    "request_wait_seconds": 0.25,  # the most a hook call waits for the ledger or replay check
    "retry_seconds": 5.0,  # after a failure, calls skip the database this long
    "stall_seconds": 10.0,  # a call running this long means the database stalled
}


def get_configs_info() -> dict[str, dict[str, Any]]:
    """The configuration sections and top-level keys the store declares (name -> schema)."""
    return dict(STORE_SCHEMA["properties"])


log = logging.getLogger("injection_cds.store.ledger")


class Store:
    """The ledger's parts on one database. Open with ``Store.from_url``; ``close()`` after.

    Callers use the parts: ``ledger`` (card writes, keyed hashes), ``feedback`` (feedback
    writes), ``replay`` (the jti table), ``queries`` (reads), ``guarded_replay`` (the
    verifier's replay check), each through ``guard`` when a request waits on it.
    """

    def __init__(
        self,
        url: str,
        hash_key: bytes | None,
        *,
        store_user_comments: bool = True,
        sqlite_busy_timeout_ms: int = 15000,
        database: Mapping[str, Any] | None = None,
    ) -> None:
        timeouts = {**DATABASE_DEFAULTS, **(database or {})}
        self.url = url
        self.db = Database(
            url,
            sqlite_busy_timeout_ms=sqlite_busy_timeout_ms,
            connect_timeout_seconds=float(timeouts["connect_timeout_seconds"]),
            statement_timeout_ms=int(timeouts["statement_timeout_ms"]),
        )
        self.request_wait_seconds = float(timeouts["request_wait_seconds"])
        self.guard = DatabaseGuard(
            retry_seconds=float(timeouts["retry_seconds"]),
            stall_seconds=float(timeouts["stall_seconds"]),
        )
        self.ledger = CardLedger(self.db, hash_key)
        self.feedback = FeedbackStore(self.db, store_user_comments=store_user_comments)
        self.replay = ReplayTable(self.db)
        self.queries = LedgerQueries(self.db)
        #: The replay check the JWT verifier uses: the table, else this process's cache.
        self.guarded_replay = GuardedReplayCheck(self.replay, self.guard, self.request_wait_seconds)

    @classmethod
    def from_url(
        cls,
        url: str,
        hash_key: bytes | None,
        *,
        migrate: bool = True,
        store_user_comments: bool = True,
        sqlite_busy_timeout_ms: int = 15000,
        database: Mapping[str, Any] | None = None,
    ) -> Store:
        """Open the store at ``url`` and bring its schema to Alembic head.

        ``hash_key`` may be ``None`` only for read-only use (reports); recording cards needs it.
        """
        store = cls(
            url,
            hash_key,
            store_user_comments=store_user_comments,
            sqlite_busy_timeout_ms=sqlite_busy_timeout_ms,
            database=database,
        )
        if migrate:
            store.upgrade()
        return store

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.db.dialect

    @property
    def engine(self) -> Engine:
        """This process's engine."""
        return self.db.engine

    def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to ``revision``, one process at a time."""
        self.db.upgrade(revision)

    def close(self) -> None:
        """Close this process's connections."""
        self.ledger.release()
        self.db.close()


def store_from_config(config: Mapping[str, Any], *, read_only: bool = False) -> Store:
    """The store the configuration names (``database_url``, ``hash_key``, ``instance_dir``).

    ``read_only`` (reports): no hash key is loaded or created.
    """
    instance_dir = str(config.get("instance_dir") or "instance")
    url = config.get("database_url") or default_database_url(instance_dir)
    key = None
    if not read_only:
        if not config.get("hash_key") and make_url(url).get_backend_name() != "sqlite":
            log.warning(
                "hash_key is not configured: using the key kept in %s; every node sharing "
                "this database must use the same hash_key",
                instance_dir,
            )
        key = hash_key_from_config(config.get("hash_key"), instance_dir)
    return Store.from_url(
        url,
        key,
        store_user_comments=bool(config.get("store_user_comments", True)),
        sqlite_busy_timeout_ms=int(config.get("sqlite_busy_timeout_ms", 15000)),
        database=config.get("database"),
    )
