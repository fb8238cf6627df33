"""The SQLite card write (prepared multi-row INSERT) stores what the SQLAlchemy path stored.

Behaviour only (issue 5): same rows, byte for byte; duplicates skipped and counted alike; one
transaction per call (all or nothing); a forked child writes with its own connection.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from injection_cds.store import cards as store_module
from injection_cds.store.ledger import Store, default_database_url

KEY = b"k" * 32
T0 = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _card(uuid: str, rule: str = "DOC001", indicator: str = "warning") -> dict[str, Any]:
    return {"uuid": uuid, "indicator": indicator, "source": {"topic": {"code": rule}}}


def _open(directory: Path) -> Store:
    return Store.from_url(default_database_url(directory), KEY)


def _rows(directory: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(directory / "injection-cds.sqlite3") as conn:
        return conn.execute(
            "SELECT card_uuid, service_id, hook, hook_instance, rule_code, indicator,"
            " patient_hash, encounter_hash, issued_at FROM cards ORDER BY id"
        ).fetchall()


def _write_all(store: Store) -> list[int]:
    counts = [
        store.ledger.record(
            "svc", "hook-a", "h1", [_card("a"), _card("b", "BIL001")], "p1", "e1", T0
        ),
        # "b" again (a retried call: the same card, the same rule) is skipped
        store.ledger.record(
            "svc", "hook-a", "h2", [_card("b", "BIL001"), _card("c")], None, None, T0
        ),
        store.ledger.record("s" * 300, "h" * 300, "i" * 300, [{"uuid": "d"}], "Patient/p1", None),
        store.ledger.record(
            "svc", "hook-a", "h3", [_card(f"bulk-{n}") for n in range(250)], "p", "e"
        ),
        store.ledger.record("svc", "hook-a", "h4", [], "p", "e"),
    ]
    return counts


def test_sqlite_fast_path_stores_what_sqlalchemy_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = datetime(2026, 3, 2, 8, 0, 0, 5, tzinfo=UTC)
    monkeypatch.setattr(store_module, "_utcnow", lambda: fixed)
    fast_dir, slow_dir = tmp_path / "fast", tmp_path / "slow"
    fast, slow = _open(fast_dir), _open(slow_dir)
    # The SQLAlchemy INSERT ... RETURNING path on the same database:
    slow.ledger.use_sqlite_fast_path = False
    try:
        assert _write_all(fast) == _write_all(slow) == [2, 1, 1, 250, 0]
        assert _rows(fast_dir) == _rows(slow_dir)
        assert fast.queries.rule_counts() == slow.queries.rule_counts()
    finally:
        fast.close()
        slow.close()


def test_a_failed_write_leaves_nothing_and_the_next_one_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _open(tmp_path)
    real = store_module.sqlite_card_insert
    try:
        store.ledger.record("svc", "hook", "h0", [_card("kept")], None, None, T0)

        def broken(count: int) -> str:
            if count < 100:  # the second chunk of 150 cards
                return "INSERT INTO no_such_table VALUES (1)"
            return real(count)

        monkeypatch.setattr(store_module, "sqlite_card_insert", broken)
        with pytest.raises(sqlite3.OperationalError):
            store.ledger.record(
                "svc", "hook", "h1", [_card(f"x{n}") for n in range(150)], None, None
            )
        monkeypatch.setattr(store_module, "sqlite_card_insert", real)
        assert [r[0] for r in _rows(tmp_path)] == ["kept"]  # all or nothing
        assert store.ledger.record("svc", "hook", "h2", [_card("after")], None, None, T0) == 1
        assert [r[0] for r in _rows(tmp_path)] == ["kept", "after"]
    finally:
        store.close()


def _child_write(store: Store) -> None:
    store.ledger.record("svc", "hook", "child", [_card("from-child")], None, None, T0)
    store.close()


def test_a_forked_child_writes_with_its_own_connection(tmp_path: Path) -> None:
    store = _open(tmp_path)
    try:
        store.ledger.record("svc", "hook", "p1", [_card("parent-1")], None, None, T0)
        child = multiprocessing.get_context("fork").Process(target=_child_write, args=(store,))
        child.start()
        child.join(30)
        assert child.exitcode == 0
        store.ledger.record("svc", "hook", "p2", [_card("parent-2")], None, None, T0)
        assert sorted(r[0] for r in _rows(tmp_path)) == ["from-child", "parent-1", "parent-2"]
    finally:
        store.close()
