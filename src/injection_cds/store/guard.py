"""Database calls that cannot hold up a request: a bounded wait, and a breaker when it is away.

Every database call of a request runs on a small per-process thread pool; the request waits
for it at most a configured time, and a call that takes longer goes on in the background (a
busy SQLite under load still commits; the response just did not wait). A call that fails
with an outage (cannot connect, connection lost), or one still running after
``stall_seconds`` (a database that accepts and never answers), marks the database *down* for
``retry_seconds``: calls made meanwhile fail at once (no waiting) and are counted, so a
stalled database costs a request at most the wait. The first call after that time tries
again; a success marks it *up*. Failures are logged with their cause (the error class and
the driver's one-line message, which names no request value).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

log = logging.getLogger("injection_cds.store.guard")

T = TypeVar("T")

_CAUSE_MAX = 160


class Unavailable(Exception):
    """The database could not be used for this call; ``cause`` says why (no request value)."""

    def __init__(self, cause: str, *, still_running: bool = False) -> None:
        super().__init__(cause)
        self.cause = cause
        #: True when the call outlived the wait and goes on in the background.
        self.still_running = still_running


_OUTAGES = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    OSError,
    sqlite3.OperationalError,
    sqlite3.InterfaceError,
)


def is_outage(exc: BaseException) -> bool:
    """True for a database that cannot be reached or used (not for a refused row)."""
    return isinstance(exc, _OUTAGES)


def describe(exc: BaseException) -> str:
    """A failure's cause for the log: class and the driver's first line, for connection errors."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        orig = exc.orig
        first_line = (str(orig).strip().splitlines() or [""])[0][:_CAUSE_MAX]
        if is_outage(exc):
            return f"{type(orig).__name__}: {first_line}"
        return type(orig).__name__  # data errors may quote a value: the class only
    if isinstance(exc, sqlite3.OperationalError):
        return f"sqlite3.OperationalError: {str(exc)[:_CAUSE_MAX]}"
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or ''}".rstrip(": ")
    return type(exc).__name__


class DatabaseGuard:
    """Runs database calls for requests under a bounded wait, with a breaker."""

    def __init__(
        self,
        *,
        retry_seconds: float = 5.0,
        stall_seconds: float = 10.0,
        threads: int = 2,
        max_pending: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._retry = retry_seconds
        self._stall = stall_seconds
        self._inflight: dict[int, float] = {}  # call number -> start time
        self._calls = 0
        self._threads = threads
        self._max_pending = max_pending
        self._clock = clock
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._pending = 0
        self.state = "unknown"  # up | down | unknown (nothing tried yet)
        self.cause: str | None = None
        self._retry_at = 0.0
        #: Per kind of call (ledger, feedback, replay, ...): how many could not use the database.
        self.failures: Counter[str] = Counter()
        #: Per kind of call: how many outlived the request's wait (and went on in the background).
        self.late: Counter[str] = Counter()

    def _executor(self) -> ThreadPoolExecutor:
        pid = os.getpid()
        with self._lock:
            if self._pool is None or self._pool_pid != pid:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="icds-db")
                self._pool_pid = pid
                self._pending = 0
                self._inflight = {}
            return self._pool

    def _mark_down(self, what: str, cause: str) -> None:
        with self._lock:
            was = self.state
            self.state, self.cause = "down", cause
            self._retry_at = self._clock() + self._retry
        if was != "down":
            log.error("database unavailable (%s, during %s); degrading", cause, what)

    def _mark_up(self) -> None:
        with self._lock:
            was = self.state
            self.state, self.cause = "up", None
        if was == "down":
            log.warning("database available again")

    def snapshot(self) -> dict[str, Any]:
        """The state for /healthz and /readyz."""
        with self._lock:
            body: dict[str, Any] = {"state": self.state}
            if self.cause:
                body["cause"] = self.cause
            if self.failures:
                body["unavailableCalls"] = dict(sorted(self.failures.items()))
            if self.late:
                body["lateCalls"] = dict(sorted(self.late.items()))
            return body

    def run(self, what: str, call: Callable[[], T], *, wait: float) -> T:
        """``call()``'s result within ``wait`` seconds, else ``Unavailable`` (counted, logged).

        A call that outlives the wait keeps running in the background; its failure is logged.
        """
        self._check_stalled(what)
        with self._lock:
            refused = None
            if self.state == "down" and self._clock() < self._retry_at:
                refused = f"database down: {self.cause}"
            elif self._pending >= self._max_pending:
                refused = "database not keeping up: too many calls waiting"
            if refused:
                self.failures[what] += 1
        if refused:
            raise Unavailable(refused)
        executor = self._executor()
        with self._lock:
            self._pending += 1
            self._calls += 1
            number = self._calls
            self._inflight[number] = self._clock()
        future: Future[T] = executor.submit(self._tracked, number, what, call)
        try:
            return future.result(timeout=wait)
        except FutureTimeout:
            with self._lock:
                self.late[what] += 1
            raise Unavailable(f"no answer within {wait:g} s", still_running=True) from None
        except Exception as exc:  # the request goes on without the database
            with self._lock:
                self.failures[what] += 1
            if not is_outage(exc):
                log.error("database call failed (%s, during %s)", describe(exc), what)
            raise Unavailable(describe(exc)) from None

    def _check_stalled(self, what: str) -> None:
        """Mark the database down when a call has been running for ``stall_seconds``."""
        with self._lock:
            oldest = min(self._inflight.values(), default=None)
            stalled = oldest is not None and self._clock() - oldest > self._stall
        if stalled and self.state != "down":
            self._mark_down(what, f"a database call has not returned for {self._stall:g} s")
        elif stalled:
            with self._lock:
                self._retry_at = self._clock() + self._retry  # still stalled: stay down

    def _tracked(self, number: int, what: str, call: Callable[[], T]) -> T:
        try:
            result = call()
        except Exception as exc:
            if is_outage(exc):
                self._mark_down(what, describe(exc))
            raise
        finally:
            with self._lock:
                self._pending -= 1
                self._inflight.pop(number, None)
        self._mark_up()
        return result
