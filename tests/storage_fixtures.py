"""Shared fixtures for the storage tests: a SQLite file and a private PostgreSQL schema.

PostgreSQL is named by ``INJECTION_CDS_TEST_POSTGRES_URL`` (default: the local trust-auth
server, database ``test``). Each test gets its own schema (dropped afterwards) through the
connection's ``search_path``, so parallel runs cannot collide. When the server cannot be
reached the PostgreSQL variants are skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from sqlalchemy.engine import make_url

from injection_cds.store import Store

POSTGRES_URL = os.environ.get(
    "INJECTION_CDS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
HASH_KEY = b"test-hash-key-0123456789abcdef-0123456789"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_reason() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can."""
    try:
        with psycopg.connect(_libpq(POSTGRES_URL), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {make_url(POSTGRES_URL)!s} unavailable: {type(exc).__name__}"
    return None


def private_schema_url() -> tuple[str, str]:
    """Create a fresh schema; return (its SQLAlchemy URL, its name)."""
    name = f"icds_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    options = quote(f"-csearch_path={name}", safe="")
    return f"{POSTGRES_URL}{separator}options={options}", name


def drop_schema(name: str) -> None:
    """Drop a schema made by ``private_schema_url``."""
    with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a private, throw-away schema."""
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)
    url, name = private_schema_url()
    try:
        yield url
    finally:
        drop_schema(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file URL in the test's own directory."""
    return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each database the store supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        return
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)
    url, name = private_schema_url()
    try:
        yield url
    finally:
        drop_schema(name)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An open store on each database, closed afterwards."""
    opened = Store.from_url(db_url, HASH_KEY)
    try:
        yield opened
    finally:
        opened.close()
