"""The database: one SQLAlchemy engine per process, short transactions, timeouts, migrations.

SQLite by default (WAL journal, ``BEGIN IMMEDIATE`` for writes, a busy timeout), PostgreSQL by
URL (a connect timeout and a statement timeout on every connection). The engine is created
lazily in each process, after a fork. A SQLite file that was deleted or replaced while the
service runs is noticed before the next statement and reopened (schema included), with an
error in the log: rows are never written into an unlinked file.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

log = logging.getLogger("injection_cds.store.engine")

MIGRATIONS = "injection_cds.store:migrations"
_MIGRATION_LOCK = 7301961152  # pg_advisory_xact_lock key: one migrating process at a time
_MIGRATION_STATEMENT_TIMEOUT = "60s"


def default_database_url(instance_dir: str | os.PathLike[str]) -> str:
    """The default ledger: a SQLite file in the instance directory (created if missing)."""
    path = Path(instance_dir)
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(path / 'injection-cds.sqlite3').resolve()}"


class Database:
    """The engine of this process, its transactions and its schema."""

    def __init__(
        self,
        url: str,
        *,
        sqlite_busy_timeout_ms: int = 15000,
        connect_timeout_seconds: float = 2.0,
        statement_timeout_ms: int = 5000,
    ) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        self._file = (
            Path(parsed.database)
            if self.is_sqlite and parsed.database and parsed.database != ":memory:"
            else None
        )
        self._busy_timeout_ms = int(sqlite_busy_timeout_ms)
        self._connect_timeout = connect_timeout_seconds
        self._statement_timeout_ms = int(statement_timeout_ms)
        self._engine: Engine | None = None
        self._engine_pid = 0
        self._lock = threading.Lock()
        self._identity: tuple[int, int] | None = None
        #: Bumped each time the engine is replaced (a reopened SQLite file): connections
        #: held outside the engine's pool (the card writer's) are then given up.
        self.generation = 0

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
        if not self.is_sqlite:
            return self._create_postgres_engine()
        if self._file is not None:
            self._file.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": self._busy_timeout_ms / 1000})
        busy_ms = self._busy_timeout_ms

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

    def _create_postgres_engine(self) -> Engine:
        url = make_url(self.url)
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in url.query:
            # libpq counts whole seconds, at least 2.
            connect_args["connect_timeout"] = max(2, math.ceil(self._connect_timeout))
        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_timeout=self._connect_timeout,
            connect_args=connect_args,
        )
        statement_ms = self._statement_timeout_ms

        @event.listens_for(engine, "connect")
        def _postgres_connect(dbapi_connection: Any, _record: Any) -> None:
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {statement_ms}")
            dbapi_connection.autocommit = autocommit

        return engine

    # -- a deleted or replaced SQLite file -----------------------------------------------------

    def _file_identity(self) -> tuple[int, int] | None:
        if self._file is None:
            return None
        try:
            stat = self._file.stat()
        except FileNotFoundError:
            return None
        return (stat.st_dev, stat.st_ino)

    def check_file(self) -> None:
        """Reopen the SQLite file (and create its schema) if it was deleted or replaced."""
        if self._file is None:
            return
        if self._identity is None:
            self._remember_file()
            return
        current = self._file_identity()
        if current == self._identity:
            return
        what = "deleted" if current is None else "replaced"
        log.error(
            "the SQLite database %s was %s while the service ran; reopening it (rows written "
            "before are in the old file, new rows go to the reopened one)",
            self._file,
            what,
        )
        with self._lock:
            if self._engine is not None:
                self._engine.dispose(close=self._engine_pid == os.getpid())
                self._engine = None
            self.generation += 1
        self.upgrade()

    def _remember_file(self) -> None:
        if self._file is not None:
            self._identity = self._file_identity()

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One short write transaction (SQLite: takes the write lock up front)."""
        self.check_file()
        with self.engine.connect() as conn:
            conn.execution_options(write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction."""
        self.check_file()
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def ping(self) -> None:
        """One round trip (raises when the database does not answer)."""
        with self.read() as conn:
            conn.execute(text("SELECT 1"))

    def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to ``revision``, one process at a time."""
        config = AlembicConfig()
        config.set_main_option("script_location", MIGRATIONS)
        with self.engine.connect() as conn:
            conn.execution_options(write=True)
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(
                        f"SET LOCAL statement_timeout = '{_MIGRATION_STATEMENT_TIMEOUT}'"
                    )
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
        self._remember_file()

    def close(self) -> None:
        """Close this process's connections."""
        with self._lock:
            if self._engine is not None:
                if self._engine_pid == os.getpid():
                    self._engine.dispose()
                else:
                    self._engine.dispose(close=False)
                self._engine = None
