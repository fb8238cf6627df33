"""The card ledger and the feedback store: SQLAlchemy 2, SQLite by default, PostgreSQL by URL.

Every card the service returns is recorded (uuid, service, hook, rule code, indicator,
hookInstance, time) with the patient and encounter only as keyed hashes (HMAC-SHA256 under a
configured secret), never a name, an MRN or a raw id. Every feedback item is stored; feedback
for a card uuid the ledger does not know is stored and flagged. The ``seen_jti`` table lets
every worker share the JWT replay check.

Safe with several gunicorn workers: every write is one short transaction (``BEGIN IMMEDIATE``
on SQLite, so a reader never has to upgrade its lock; WAL journal; a busy timeout), and the
engine is created lazily in each process, after the fork. The schema is Alembic's: the store
runs ``upgrade head`` when it is opened, serialized across processes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import logging
import os
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from injection_cds.protocol.feedback import parse_timestamp
from injection_cds.store.tables import cards, feedback, metadata, seen_jti_table

__all__ = ["STORE_SCHEMA", "Store", "cards", "feedback", "metadata", "seen_jti_table"]

#: The configuration keys the store owns (a JSON Schema fragment of the top-level object).
STORE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "database_url": {
            "type": "string",
            "minLength": 1,
            "description": (
                "SQLAlchemy URL of the ledger. Default: a SQLite file in the instance directory. "
                "PostgreSQL: postgresql+psycopg://user@host:5432/dbname"
            ),
        },
        "hash_key": {
            "type": "string",
            "minLength": 32,
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
    },
}

log = logging.getLogger("injection_cds.store.ledger")

MIGRATIONS = "injection_cds.store:migrations"
_COMMENT_MAX = 2000
_JTI_PURGE_EVERY = 200
_HASH_KEY_FILE = "hash_key"


@dataclass(frozen=True)
class FeedbackResult:
    """What ``record_feedback`` stored: the item count and the card uuids the ledger lacks."""

    stored: int
    unknown_cards: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The feedback endpoint's response body."""
        body: dict[str, Any] = {"stored": self.stored}
        if self.unknown_cards:
            body["unknownCards"] = list(self.unknown_cards)
        return body


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


@functools.lru_cache(maxsize=32)
def _sqlite_card_insert(count: int) -> str:
    """``INSERT ... VALUES (?...), ... ON CONFLICT (card_uuid) DO NOTHING`` for ``count`` rows."""
    row = "(" + ", ".join("?" for _ in _CARD_COLUMNS) + ")"
    return (
        f"INSERT INTO cards ({', '.join(_CARD_COLUMNS)}) VALUES {', '.join([row] * count)}"
        " ON CONFLICT (card_uuid) DO NOTHING"
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


def default_database_url(instance_dir: str | os.PathLike[str]) -> str:
    """The default ledger: a SQLite file in the instance directory (created if missing)."""
    path = Path(instance_dir)
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(path / 'injection-cds.sqlite3').resolve()}"


def load_or_create_hash_key(instance_dir: str | os.PathLike[str]) -> bytes:
    """Read ``<instance>/hash_key``, creating it (random, mode 0600) exactly once.

    Safe when several workers start at once: the key is written to a temporary file and linked
    into place, so a reader never sees a half-written key and only one key ever wins.
    """
    directory = Path(instance_dir)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / _HASH_KEY_FILE
    if not target.exists():
        tmp = directory / f".{_HASH_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp, target)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return target.read_text(encoding="ascii").strip().encode("ascii")


def hash_key_from_config(value: str | bytes | None, instance_dir: str | os.PathLike[str]) -> bytes:
    """The HMAC key: the configured ``hash_key``, or the one kept in the instance directory."""
    if isinstance(value, bytes):
        return value
    if value:
        return value.encode("utf-8")
    return load_or_create_hash_key(instance_dir)


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
    )


def _reference_id(kind: str, value: str) -> str:
    """``Patient/123``, ``123`` and ``https://x/fhir/Patient/123`` all name patient 123."""
    ident = value.strip()
    parts = ident.rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == kind:
        return parts[-1]
    return ident


def _clip(value: object, size: int) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text[:size]


class Store:
    """The ledger. Open with ``Store.from_url``; close with ``close()``."""

    def __init__(
        self,
        url: str,
        hash_key: bytes | None,
        *,
        store_user_comments: bool = True,
        sqlite_busy_timeout_ms: int = 15000,
    ) -> None:
        self.url = url
        self._hash_key = hash_key
        self._keep_comments = store_user_comments
        self._busy_timeout_ms = sqlite_busy_timeout_ms
        self._engine: Engine | None = None
        self._engine_pid = 0
        self._lock = threading.Lock()
        self._jti_calls = 0
        self._is_sqlite = make_url(url).get_backend_name() == "sqlite"
        # SQLite card writes: one DBAPI connection of this process's pool, kept checked out.
        self._cards_lock = threading.Lock()
        self._cards_conn: Any = None
        self._cards_conn_pid = 0
        self._issued_at_bind: Any = None

    @classmethod
    def from_url(
        cls,
        url: str,
        hash_key: bytes | None,
        *,
        migrate: bool = True,
        store_user_comments: bool = True,
        sqlite_busy_timeout_ms: int = 15000,
    ) -> Store:
        """Open the store at ``url`` and bring its schema to Alembic head.

        ``hash_key`` may be ``None`` only for read-only use (reports); recording cards needs it.
        """
        store = cls(
            url,
            hash_key,
            store_user_comments=store_user_comments,
            sqlite_busy_timeout_ms=sqlite_busy_timeout_ms,
        )
        if migrate:
            store.upgrade()
        return store

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return make_url(self.url).get_backend_name()

    # -- engine, one per process ---------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """This process's engine; a forked child never reuses its parent's connections."""
        pid = os.getpid()
        engine = self._engine
        if engine is not None and self._engine_pid == pid:
            return engine
        with self._lock:
            if self._engine is not None and self._engine_pid != pid:
                self._engine.dispose(close=False)
                self._engine = None
            if self._engine is None:
                self._engine = self._create_engine()
                self._engine_pid = pid
            return self._engine

    def _create_engine(self) -> Engine:
        url = make_url(self.url)
        if url.get_backend_name() != "sqlite":
            return create_engine(url, pool_pre_ping=True)
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        busy_ms = int(self._busy_timeout_ms)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # The driver's own transaction handling off: we emit BEGIN ourselves (below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One short write transaction (SQLite: takes the write lock up front)."""
        with self.engine.connect() as conn:
            conn.execution_options(write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        """Close this process's connections."""
        self._release_cards_connection()
        with self._lock:
            if self._engine is not None:
                if self._engine_pid == os.getpid():
                    self._engine.dispose()
                else:
                    self._engine.dispose(close=False)
                self._engine = None

    # -- schema ---------------------------------------------------------------------------------

    def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to ``revision``, one process at a time."""
        config = AlembicConfig()
        config.set_main_option("script_location", MIGRATIONS)
        with self._write() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7301961152)")
            config.attributes["connection"] = conn
            command.upgrade(config, revision)

    # -- hashing --------------------------------------------------------------------------------

    def keyed_hash(self, kind: str, value: str) -> str:
        """HMAC-SHA256 of ``Kind/id`` under the store's secret key, as hex."""
        if not self._hash_key:
            raise RuntimeError("this store was opened without a hash_key; it cannot record cards")
        message = f"{kind}/{_reference_id(kind, value)}".encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()

    # -- writes ---------------------------------------------------------------------------------

    def record_cards(
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

        Only the card's uuid, indicator and rule code (``source.topic.code``) are kept; a card
        whose uuid is already in the ledger is skipped.
        """
        if not cards_out:
            return 0
        when = at or _utcnow()
        patient_hash = self.keyed_hash("Patient", patient_id) if patient_id else None
        encounter_hash = self.keyed_hash("Encounter", encounter_id) if encounter_id else None
        rows = []
        for card in cards_out:
            source = card.get("source")
            topic = source.get("topic") if isinstance(source, Mapping) else None
            code = topic.get("code") if isinstance(topic, Mapping) else None
            rows.append(
                {
                    "card_uuid": _clip(card.get("uuid"), 256),
                    "service_id": _clip(service_id, 128) or "",
                    "hook": _clip(hook, 128) or "",
                    "hook_instance": _clip(hook_instance, 256) or "",
                    "rule_code": _clip(code, 64) or "UNKNOWN",
                    "indicator": _clip(card.get("indicator"), 16) or "info",
                    "patient_hash": patient_hash,
                    "encounter_hash": encounter_hash,
                    "issued_at": when,
                }
            )
        if self._is_sqlite:
            return self._record_cards_sqlite(rows)
        with self._write() as conn:
            statement = self._insert_ignore(conn, cards, ["card_uuid"]).returning(cards.c.id)
            return len(conn.execute(statement, rows).all())

    def _record_cards_sqlite(self, rows: list[dict[str, Any]]) -> int:
        """The card rows in one ``BEGIN IMMEDIATE`` transaction of multi-row INSERTs.

        The same rows, transaction and durability (WAL, ``synchronous = NORMAL``: committed
        before the response goes out, kept through a process crash) as the SQLAlchemy path,
        without its per-call statement building: a prepared statement (sqlite3's statement
        cache) on a connection this process keeps for card writes.
        """
        with self._cards_lock:
            conn = self._cards_connection()
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
                    written += conn.execute(_sqlite_card_insert(len(chunk)), values).rowcount
                conn.execute("COMMIT")
            except BaseException:
                self._discard_cards_connection()
                raise
            return written

    def _cards_connection(self) -> Any:
        """This process's sqlite3 connection for card writes (from the engine's pool)."""
        pid = os.getpid()
        if self._cards_conn is None or self._cards_conn_pid != pid:
            if self._cards_conn is not None:
                # The parent's connection, inherited by a fork: never used, closed or
                # returned to a pool here (SQLite handles must not cross a fork).
                _INHERITED_CONNECTIONS.append(self._cards_conn)
            engine = self.engine
            self._cards_conn = engine.raw_connection()
            self._cards_conn_pid = pid
            self._issued_at_bind = cards.c.issued_at.type.bind_processor(engine.dialect)
        return self._cards_conn.driver_connection

    def _discard_cards_connection(self) -> None:
        """After a failed write: roll back and give the connection up (a new one next time)."""
        held, self._cards_conn = self._cards_conn, None
        if held is None or self._cards_conn_pid != os.getpid():
            return
        with contextlib.suppress(Exception):  # no transaction open, or the connection is gone
            held.driver_connection.execute("ROLLBACK")
        with contextlib.suppress(Exception):
            held.invalidate()

    def _release_cards_connection(self) -> None:
        with self._cards_lock:
            held, self._cards_conn = self._cards_conn, None
            if held is not None:
                if self._cards_conn_pid == os.getpid():
                    held.close()  # back to the pool, which the engine's dispose then closes
                else:
                    _INHERITED_CONNECTIONS.append(held)

    def record_feedback(
        self,
        service_id: str,
        items: Sequence[Mapping[str, Any]],
        at: datetime | None = None,
    ) -> FeedbackResult:
        """Store every (schema-valid) feedback item; unknown card uuids are stored and flagged."""
        if not items:
            return FeedbackResult(0, ())
        received = at or _utcnow()
        uuids = {str(item["card"]) for item in items}
        with self._write() as conn:
            known = set(
                conn.execute(
                    select(cards.c.card_uuid).where(cards.c.card_uuid.in_(sorted(uuids)))
                ).scalars()
            )
            rows = [self._feedback_row(service_id, item, received, known) for item in items]
            conn.execute(insert(feedback), rows)
        unknown = tuple(dict.fromkeys(r["card_uuid"] for r in rows if not r["known_card"]))
        return FeedbackResult(len(rows), unknown)

    def _feedback_row(
        self, service_id: str, item: Mapping[str, Any], received: datetime, known: set[str]
    ) -> dict[str, Any]:
        reason = item.get("overrideReason") or {}
        coding = reason.get("reason") or {}
        comment = reason.get("userComment") if self._keep_comments else None
        suggestions = [
            str(s["id"]) for s in item.get("acceptedSuggestions") or [] if isinstance(s, Mapping)
        ]
        card_uuid = str(item["card"])[:256]
        stamp = item.get("outcomeTimestamp")
        return {
            "service_id": service_id[:128],
            "card_uuid": card_uuid,
            "outcome": str(item["outcome"])[:16],
            "accepted_suggestions": suggestions or None,
            "override_system": _clip(coding.get("system"), 512),
            "override_code": _clip(coding.get("code"), 256),
            "override_display": _clip(coding.get("display"), 512),
            "user_comment": _clip(comment, _COMMENT_MAX),
            "outcome_at": parse_timestamp(stamp) if isinstance(stamp, str) else received,
            "received_at": received,
            "known_card": card_uuid in known,
        }

    def seen_jti(self, iss: str, jti: str, expires_at: datetime) -> bool:
        """Atomically remember ``(iss, jti)`` until ``expires_at``; True if it was already seen."""
        key = hashlib.sha256(f"{iss}\n{jti}".encode()).hexdigest()
        now = _utcnow()
        with self._write() as conn:
            conn.execute(
                delete(seen_jti_table).where(
                    seen_jti_table.c.key == key, seen_jti_table.c.expires_at < now
                )
            )
            statement = self._insert_ignore(conn, seen_jti_table, ["key"]).returning(
                seen_jti_table.c.key
            )
            row = {"key": key, "expires_at": expires_at}
            inserted = conn.execute(statement, row).first() is not None
            self._jti_calls += 1
            if self._jti_calls % _JTI_PURGE_EVERY == 0:
                conn.execute(delete(seen_jti_table).where(seen_jti_table.c.expires_at < now))
        return not inserted

    @staticmethod
    def _insert_ignore(conn: Connection, table: Table, keys: list[str]) -> Any:
        if conn.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
        if conn.dialect.name == "sqlite":
            return sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
        raise RuntimeError(f"unsupported database dialect: {conn.dialect.name}")

    # -- reads ----------------------------------------------------------------------------------

    def rule_counts(self, since: datetime | None = None) -> list[RuleCounts]:
        """Per rule: cards issued since ``since``; how many were last accepted / overridden."""
        latest = self._latest_feedback()
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
        with self._read() as conn:
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
        latest = self._latest_feedback()
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
        with self._read() as conn:
            return [
                ReasonCount(str(rule), system, code, display, int(n))
                for rule, system, code, display, n in conn.execute(query)
            ]

    def unknown_feedback_count(self, since: datetime | None = None) -> int:
        """Feedback items whose card uuid was not in the ledger when they arrived."""
        query = select(func.count()).select_from(feedback).where(feedback.c.known_card.is_(False))
        if since is not None:
            query = query.where(feedback.c.received_at >= since)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def feedback_rows(self, card_uuid: str | None = None) -> list[dict[str, Any]]:
        """Stored feedback items (all, or one card's), oldest first."""
        query = select(feedback).order_by(feedback.c.id)
        if card_uuid is not None:
            query = query.where(feedback.c.card_uuid == card_uuid)
        with self._read() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def card_rows(self) -> list[dict[str, Any]]:
        """Every ledger row, oldest first."""
        with self._read() as conn:
            return [
                dict(row) for row in conn.execute(select(cards).order_by(cards.c.id)).mappings()
            ]

    @staticmethod
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
