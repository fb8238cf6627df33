"""The card ledger: every card the service returned, with patient and encounter hashed.

Kept per card: uuid, service, hook, rule, indicator, hookInstance and time; the patient and
encounter only as keyed hashes.

One row per rule a card reports (a folded card reports several); a (uuid, rule) already
in the ledger is skipped. On SQLite the rows go in one
``BEGIN IMMEDIATE`` transaction of multi-row INSERTs on a connection this process keeps for
card writes; on PostgreSQL through ``INSERT ... ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from injection_cds.store.engine import Database
from injection_cds.store.keys import keyed_hash
from injection_cds.store.tables import cards
from injection_cds.store.values import clip

_CARD_COLUMNS = (
    "card_uuid",
    "service_id",
    "hook",
    "hook_instance",
    "rule_code",
    "indicator",
    "patient_hash",
    "encounter_hash",
    "issued_at",
)
_INHERITED_CONNECTIONS: list[Any] = []  # card connections of a parent process (see below)
_CARD_ROWS_PER_INSERT = 100  # 900 parameters, below every SQLite's variable limit


_FINDINGS_EXTENSION = "org.injectioncds.findings"


def card_rules(card: Mapping[str, Any]) -> list[str | None]:
    """The rules a card reports: its topic's code, then every other rule of its findings."""
    source = card.get("source")
    topic = source.get("topic") if isinstance(source, Mapping) else None
    codes: list[str | None] = [topic.get("code") if isinstance(topic, Mapping) else None]
    extension = card.get("extension")
    findings = extension.get(_FINDINGS_EXTENSION) if isinstance(extension, Mapping) else None
    for finding in findings if isinstance(findings, list) else ():
        rule = finding.get("rule") if isinstance(finding, Mapping) else None
        if isinstance(rule, str) and rule not in codes:
            codes.append(rule)
    return codes


def _utcnow() -> datetime:
    return datetime.now(UTC)


@functools.lru_cache(maxsize=32)
def sqlite_card_insert(count: int) -> str:
    """``INSERT ... VALUES (?...), ... ON CONFLICT DO NOTHING`` for ``count`` rows."""
    row = "(" + ", ".join("?" for _ in _CARD_COLUMNS) + ")"
    return (
        f"INSERT INTO cards ({', '.join(_CARD_COLUMNS)}) VALUES {', '.join([row] * count)}"
        " ON CONFLICT (card_uuid, rule_code) DO NOTHING"
    )


def insert_ignore(conn: Connection, table: Table, keys: list[str]) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING`` in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    raise RuntimeError(f"unsupported database dialect: {conn.dialect.name}")


class CardLedger:
    """Writes the cards of each service call."""

    def __init__(self, database: Database, hash_key: bytes | None) -> None:
        self._db = database
        self._hash_key = hash_key
        self.use_sqlite_fast_path = database.is_sqlite
        # SQLite card writes: one DBAPI connection of this process's pool, kept checked out.
        self._lock = threading.Lock()
        self._conn: Any = None
        self._conn_pid = 0
        self._conn_generation = 0
        self._issued_at_bind: Any = None

    def keyed_hash(self, kind: str, value: str) -> str:
        """HMAC-SHA256 of ``Kind/id`` under the store's secret key, as hex."""
        return keyed_hash(self._hash_key, kind, value)

    def record(
        self,
        service_id: str,
        hook: str,
        hook_instance: str,
        cards_out: Sequence[Mapping[str, Any]],
        patient_id: str | None,
        encounter_id: str | None,
        at: datetime | None = None,
    ) -> int:
        """Record every card returned by one service call; returns how many rows were written.

        Only the card's uuid, indicator and rule codes are kept: one row per rule the card
        reports (``source.topic.code`` first, then each other rule of its
        ``org.injectioncds.findings``), so that a card folding several rules is shown, and
        its feedback counted, for each. A (uuid, rule) already in the ledger is skipped.
        """
        if not cards_out:
            return 0
        when = at or _utcnow()
        patient_hash = self.keyed_hash("Patient", patient_id) if patient_id else None
        encounter_hash = self.keyed_hash("Encounter", encounter_id) if encounter_id else None
        rows = []
        for card in cards_out:
            for code in card_rules(card):
                rows.append(
                    {
                        "card_uuid": clip(card.get("uuid"), 256),
                        "service_id": clip(service_id, 128) or "",
                        "hook": clip(hook, 128) or "",
                        "hook_instance": clip(hook_instance, 256) or "",
                        "rule_code": clip(code, 64) or "UNKNOWN",
                        "indicator": clip(card.get("indicator"), 16) or "info",
                        "patient_hash": patient_hash,
                        "encounter_hash": encounter_hash,
                        "issued_at": when,
                    }
                )
        if self.use_sqlite_fast_path:
            return self._record_sqlite(rows)
        with self._db.write() as conn:
            statement = insert_ignore(conn, cards, ["card_uuid", "rule_code"]).returning(cards.c.id)
            return len(conn.execute(statement, rows).all())

    def _record_sqlite(self, rows: list[dict[str, Any]]) -> int:
        """The card rows in one ``BEGIN IMMEDIATE`` transaction of multi-row INSERTs.

        The same rows, transaction and durability (WAL, ``synchronous = NORMAL``: committed
        before the call returns, kept through a process crash) as the SQLAlchemy path,
        without its per-call statement building: a prepared statement (sqlite3's statement
        cache) on a connection this process keeps for card writes.
        """
        self._db.check_file()
        with self._lock:
            conn = self._connection()
            values: list[Any] = []
            bind = self._issued_at_bind
            try:
                conn.execute("BEGIN IMMEDIATE")
                written = 0
                for start in range(0, len(rows), _CARD_ROWS_PER_INSERT):
                    chunk = rows[start : start + _CARD_ROWS_PER_INSERT]
                    values = []
                    for row in chunk:
                        values.extend(row[name] for name in _CARD_COLUMNS[:-1])
                        issued = row["issued_at"]
                        values.append(bind(issued) if bind is not None else issued)
                    written += conn.execute(sqlite_card_insert(len(chunk)), values).rowcount
                conn.execute("COMMIT")
            except BaseException:
                self._discard()
                raise
            return written

    def _connection(self) -> Any:
        """This process's sqlite3 connection for card writes (from the engine's pool)."""
        pid = os.getpid()
        stale = self._conn_pid != pid or self._conn_generation != self._db.generation
        if self._conn is None or stale:
            if self._conn is not None:
                if self._conn_pid == pid:
                    with contextlib.suppress(Exception):  # its file is gone: just drop it
                        self._conn.invalidate()
                else:
                    # The parent's connection, inherited by a fork: never used, closed or
                    # returned to a pool here (SQLite handles must not cross a fork).
                    _INHERITED_CONNECTIONS.append(self._conn)
            engine = self._db.engine
            self._conn = engine.raw_connection()
            self._conn_pid = pid
            self._conn_generation = self._db.generation
            self._issued_at_bind = cards.c.issued_at.type.bind_processor(engine.dialect)
        return self._conn.driver_connection

    def _discard(self) -> None:
        """After a failed write: roll back and give the connection up (a new one next time)."""
        held, self._conn = self._conn, None
        if held is None or self._conn_pid != os.getpid():
            return
        with contextlib.suppress(Exception):  # no transaction open, or the connection is gone
            held.driver_connection.execute("ROLLBACK")
        with contextlib.suppress(Exception):
            held.invalidate()

    def release(self) -> None:
        """Give the card connection back (before the engine is disposed)."""
        with self._lock:
            held, self._conn = self._conn, None
            if held is not None:
                if self._conn_pid == os.getpid():
                    held.close()  # back to the pool, which the engine's dispose then closes
                else:
                    _INHERITED_CONNECTIONS.append(held)
