"""JWT replay protection: each ``(iss, jti)`` accepted once until the token expires.

The ``seen_jti`` table lets every worker and node share the check. While the database is
away the check falls back to a bounded cache in this process (``LocalReplayCache``), and says
so in the log: a token replayed to the same process is still refused, one replayed to another
process during the outage is not.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import delete

from injection_cds.store.cards import insert_ignore
from injection_cds.store.engine import Database
from injection_cds.store.guard import DatabaseGuard, Unavailable
from injection_cds.store.tables import seen_jti_table

log = logging.getLogger("injection_cds.store.replay")

_PURGE_EVERY = 200
LOCAL_CACHE_SIZE = 100_000


def _key(iss: str, jti: str) -> str:
    return hashlib.sha256(f"{iss}\n{jti}".encode()).hexdigest()


class ReplayTable:
    """The shared check, in the database."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._calls = 0

    def seen(self, iss: str, jti: str, expires_at: datetime) -> bool:
        """Atomically remember ``(iss, jti)`` until ``expires_at``; True if it was already seen."""
        key = _key(iss, jti)
        now = datetime.now(UTC)
        with self._db.write() as conn:
            conn.execute(
                delete(seen_jti_table).where(
                    seen_jti_table.c.key == key, seen_jti_table.c.expires_at < now
                )
            )
            statement = insert_ignore(conn, seen_jti_table, ["key"]).returning(seen_jti_table.c.key)
            row = {"key": key, "expires_at": expires_at}
            inserted = conn.execute(statement, row).first() is not None
            self._calls += 1
            if self._calls % _PURGE_EVERY == 0:
                conn.execute(delete(seen_jti_table).where(seen_jti_table.c.expires_at < now))
        return not inserted


class LocalReplayCache:
    """The per-process check: at most ``size`` entries, the oldest dropped first."""

    def __init__(self, size: int = LOCAL_CACHE_SIZE, clock: Callable[[], datetime] | None = None):
        self._size = size
        self._clock = clock or (lambda: datetime.now(UTC))
        self._entries: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def seen(self, iss: str, jti: str, expires_at: datetime) -> bool:
        """Remember ``(iss, jti)``; True if this process saw it before and it has not expired."""
        key = _key(iss, jti)
        now = self._clock()
        with self._lock:
            known = self._entries.get(key)
            if known is not None and known >= now:
                return True
            self._entries[key] = expires_at
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)  # the oldest entry
        return False


class GuardedReplayCheck:
    """What the JWT verifier calls: the shared table, else this process's cache."""

    def __init__(self, table: ReplayTable, guard: DatabaseGuard, wait_seconds: float) -> None:
        self._table = table
        self._guard = guard
        self._wait = wait_seconds
        self.local = LocalReplayCache()

    def seen_jti(self, iss: str, jti: str, expires_at: datetime) -> bool:
        """True when the token was used before (here, or anywhere while the database is up)."""
        if self.local.seen(iss, jti, expires_at):
            return True
        try:
            return self._guard.run(
                "replay", lambda: self._table.seen(iss, jti, expires_at), wait=self._wait
            )
        except Unavailable as exc:
            log.warning(
                "JWT replay check degraded to this process's cache (%d entries): the database "
                "is unavailable (%s)",
                len(self.local),
                exc.cause,
            )
            return False
