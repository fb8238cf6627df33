"""Shared fixtures for the storage tests: a SQLite file and a private PostgreSQL schema.

PostgreSQL is named by ``INJECTION_CDS_TEST_POSTGRES_URL`` (default: the local trust-auth
server, database ``test``). Each test gets its own schema (dropped afterwards) through the
connection's ``search_path``, so parallel runs cannot collide. When the server cannot be
reached the PostgreSQL variants are skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import psycopg
import pytest
from cds_test_support import JsonServer
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from sqlalchemy.engine import make_url

from injection_cds.store.ledger import Store
from injection_cds.web.factory import create_app

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


@contextmanager
def private_postgres() -> Iterator[str]:
    """A PostgreSQL URL on a private schema, dropped afterwards (skips without a server)."""
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)
    url, name = private_schema_url()
    try:
        yield url
    finally:
        drop_schema(name)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a private, throw-away schema."""
    with private_postgres() as url:
        yield url


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
    with private_postgres() as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An open store on each database, closed afterwards."""
    with closing(Store.from_url(db_url, HASH_KEY)) as opened:
        yield opened


# -- HTTP: an app on a given database, and a real JWKS server with signing keys ---------------

HASH_KEY_TEXT = HASH_KEY.decode()


@contextmanager
def app_on(instance_dir: Path, **config: Any) -> Iterator[Flask]:
    """An app (create_app) whose store and HTTP sessions are closed afterwards."""
    settings: dict[str, Any] = {"instance_dir": str(instance_dir), "hash_key": HASH_KEY_TEXT}
    settings.update(config)
    app = create_app(settings)
    try:
        yield app
    finally:
        app.extensions["injection_cds.store.ledger"].close()
        app.extensions["injection_cds.verifier"].close()
        app.extensions["injection_cds.fhir_client"].session.close()


class JwtKit:
    """An EHR's signing keys, its JWK Set served by http.server on a free port, and tokens."""

    iss = "https://ehr.example.org"

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {
            "ES384": ec.generate_private_key(ec.SECP384R1()),
            "RS384": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        }
        self.kids = {"ES384": "ec384", "RS384": "rsa384"}
        self.server = JsonServer({"/jwks.json": {"keys": [self._jwk(alg) for alg in self.keys]}})
        self.jwks_url = f"{self.server.url}/jwks.json"

    def _jwk(self, alg: str) -> dict[str, Any]:
        public = self.keys[alg].public_key()
        kind = ECAlgorithm if alg.startswith("ES") else RSAAlgorithm
        entry: dict[str, Any] = kind.to_jwk(public, as_dict=True)
        entry.update({"kid": self.kids[alg], "use": "sig", "alg": alg})
        return entry

    def auth_config(self) -> dict[str, Any]:
        """The ``auth`` configuration section trusting this EHR."""
        return {"issuers": [{"iss": self.iss, "jwks_url": self.jwks_url}], "leeway_seconds": 5}

    def token(self, aud: str, alg: str = "ES384", **claims: Any) -> str:
        """A signed JWT for ``aud``; claims given as None are left out."""
        now = int(time.time())
        payload = {"iss": self.iss, "aud": aud, "iat": now, "exp": now + 300}
        payload["jti"] = secrets.token_hex(16)
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        headers = {"kid": self.kids[alg], "typ": "JWT"}
        return jwt.encode(payload, self.keys[alg], algorithm=alg, headers=headers)

    def close(self) -> None:
        """Stop the JWKS server."""
        self.server.close()


@pytest.fixture(scope="module")
def jwt_kit() -> Iterator[JwtKit]:
    """Keys and a live JWKS server for the module's tests."""
    with closing(JwtKit()) as kit:
        yield kit


@pytest.fixture
def make_app() -> Any:
    """``app_on`` as a fixture (test modules load this file as a plugin, not by import)."""
    return app_on
