"""The card ledger and feedback store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from injection_cds.protocol.feedback import parse_feedback
from injection_cds.store.ledger import Store, load_or_create_hash_key, metadata

pytest_plugins = ["storage_fixtures"]

HASH_KEY = b"test-hash-key-0123456789abcdef-0123456789"


def card(uuid: str, rule: str, indicator: str = "warning") -> dict[str, object]:
    return {
        "uuid": uuid,
        "summary": f"{rule} finding",
        "indicator": indicator,
        "source": {"label": "injection-cds", "topic": {"system": "urn:x", "code": rule}},
    }


T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _feedback(card_uuid: str, outcome: str = "overridden", code: str = "not-needed") -> dict:
    item: dict = {"card": card_uuid, "outcome": outcome, "outcomeTimestamp": "2026-03-01T12:05:00Z"}
    if outcome == "accepted":
        item["acceptedSuggestions"] = [{"id": f"{card_uuid}-s1"}]
    else:
        item["overrideReason"] = {
            "reason": {"system": "urn:reasons", "code": code, "display": code.title()},
            "userComment": "documented elsewhere",
        }
    return item


def test_feedback_round_trip(store: Store) -> None:
    store.ledger.record(
        "injection-sign", "order-sign", "hi-1", [card("c-1", "DOC001")], "Patient/1", None, T0
    )
    items = parse_feedback({"feedback": [_feedback("c-1"), _feedback("c-1", "accepted")]})
    result = store.feedback.record("injection-sign", items, T0)
    assert result.stored == 2 and result.unknown_cards == ()
    rows = store.queries.feedback_rows("c-1")
    assert [r["outcome"] for r in rows] == ["overridden", "accepted"]
    first, second = rows
    assert first["override_code"] == "not-needed"
    assert first["override_display"] == "Not-Needed"
    assert first["user_comment"] == "documented elsewhere"
    assert first["outcome_at"] == datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    assert first["received_at"] == T0
    assert first["known_card"] is True
    assert second["accepted_suggestions"] == ["c-1-s1"]


def test_unknown_card_is_stored_and_flagged(store: Store) -> None:
    result = store.feedback.record("svc", [_feedback("nobody-issued-this")], T0)
    assert result.stored == 1
    assert result.unknown_cards == ("nobody-issued-this",)
    assert result.as_json() == {"stored": 1, "unknownCards": ["nobody-issued-this"]}
    (row,) = store.queries.feedback_rows()
    assert row["known_card"] is False
    assert store.queries.unknown_feedback_count() == 1


def test_ledger_keeps_hashes_not_ids(store: Store) -> None:
    store.ledger.record(
        "svc",
        "encounter-discharge",
        "hi-2",
        [card("c-2", "DOC003", "critical")],
        "Patient/MRN-4455",
        "Encounter/enc-77",
        T0,
    )
    (row,) = store.queries.card_rows()
    assert row["rule_code"] == "DOC003" and row["indicator"] == "critical"
    assert row["hook_instance"] == "hi-2" and row["issued_at"] == T0
    assert "4455" not in str(row) and "enc-77" not in str(row)
    # Same patient, however it is written, hashes the same; another key hashes differently.
    assert row["patient_hash"] == store.ledger.keyed_hash("Patient", "MRN-4455")
    assert row["patient_hash"] == store.ledger.keyed_hash(
        "Patient", "https://ehr/fhir/Patient/MRN-4455"
    )
    other = Store(store.url, b"another-key-entirely-0123456789")
    assert other.ledger.keyed_hash("Patient", "MRN-4455") != row["patient_hash"]


def test_duplicate_card_uuid_is_recorded_once(store: Store) -> None:
    assert store.ledger.record("svc", "order-sign", "h", [card("dup", "DOC001")], None, None) == 1
    assert store.ledger.record("svc", "order-sign", "h", [card("dup", "DOC001")], None, None) == 0
    assert len(store.queries.card_rows()) == 1


def test_jti_is_seen_once_until_it_expires(store: Store) -> None:
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert store.replay.seen("https://ehr", "jti-1", later) is False
    assert store.replay.seen("https://ehr", "jti-1", later) is True
    assert store.replay.seen("https://other-ehr", "jti-1", later) is False
    past = datetime.now(UTC) - timedelta(seconds=1)
    assert store.replay.seen("https://ehr", "jti-old", past) is False
    assert store.replay.seen("https://ehr", "jti-old", later) is False  # the old entry had expired


def test_migrations_match_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == []
    assert {"cards", "feedback", "seen_jti", "alembic_version"} <= tables


def test_restart_keeps_feedback(sqlite_url: str) -> None:
    first = Store.from_url(sqlite_url, HASH_KEY)
    first.ledger.record("svc", "order-sign", "h", [card("c-9", "DOC002")], "1", None, T0)
    first.feedback.record("svc", [_feedback("c-9")], T0)
    first.close()
    second = Store.from_url(sqlite_url, HASH_KEY)  # runs `upgrade head` again: a no-op
    try:
        assert [r["card_uuid"] for r in second.queries.feedback_rows()] == ["c-9"]
        assert second.queries.rule_counts()[0].overridden == 1
    finally:
        second.close()


def test_sqlite_is_in_wal_mode(sqlite_url: str) -> None:
    opened = Store.from_url(sqlite_url, HASH_KEY)
    try:
        with opened.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) > 0
    finally:
        opened.close()


def test_hash_key_file_is_created_once(tmp_path: Path) -> None:
    key = load_or_create_hash_key(tmp_path)
    assert len(key) == 64
    assert load_or_create_hash_key(tmp_path) == key
    assert (tmp_path / "hash_key").stat().st_mode & 0o077 == 0


# -- several processes writing at once -----------------------------------------------------

WORKERS = 4
POSTS_PER_WORKER = 150


def _writer(store: Store, worker: int, barrier: multiprocessing.synchronize.Barrier) -> None:
    barrier.wait()
    for post in range(POSTS_PER_WORKER):
        uuid = f"w{worker}-p{post}"
        store.ledger.record("svc", "order-sign", uuid, [card(uuid, "DOC001")], str(post), None)
        items = [_feedback(uuid), _feedback(f"unknown-{uuid}", "accepted")]
        store.feedback.record("svc", items)
        store.replay.seen("https://ehr", f"jti-{uuid}", datetime.now(UTC) + timedelta(minutes=5))
    store.close()


def _run_writers(url: str) -> None:
    # The parent opens (and migrates) the store, then forks: each child must make its own
    # engine, as a gunicorn worker does after the fork.
    parent = Store.from_url(url, HASH_KEY)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WORKERS)
    processes = [context.Process(target=_writer, args=(parent, n, barrier)) for n in range(WORKERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    try:
        assert [p.exitcode for p in processes] == [0] * WORKERS
        expected = WORKERS * POSTS_PER_WORKER
        rows = parent.queries.feedback_rows()
        assert len(rows) == 2 * expected
        assert sum(1 for r in rows if r["known_card"]) == expected
        assert len(parent.queries.card_rows()) == expected
        assert parent.queries.rule_counts()[0].overridden == expected
    finally:
        parent.close()


@pytest.mark.slow
def test_concurrent_writers_sqlite(sqlite_url: str) -> None:
    _run_writers(sqlite_url)


@pytest.mark.slow
@pytest.mark.postgres
def test_concurrent_writers_postgresql(postgres_url: str) -> None:
    _run_writers(postgres_url)


def test_concurrent_first_start_migrates_once(sqlite_url: str) -> None:
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_open_and_close, args=(sqlite_url,)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * 4
    opened = Store.from_url(sqlite_url, HASH_KEY)
    try:
        with opened.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1
    finally:
        opened.close()


def _open_and_close(url: str) -> None:
    Store.from_url(url, HASH_KEY).close()
