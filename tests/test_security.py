"""JWT verification of the calling EHR, against JWK Sets served by a real local HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cds_test_support import JsonServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from injection_cds.store.ledger import Store
from injection_cds.web.auth import Unauthorized, Verifier, is_loopback

pytest_plugins = ["storage_fixtures"]

ISS = "https://ehr.example.org"
AUD = "https://cds.example.org/cds-services/injection-sign"
HASH_KEY = b"test-hash-key-0123456789abcdef-0123456789"

KEYS: dict[str, Any] = {
    "ES384": ec.generate_private_key(ec.SECP384R1()),
    "ES256": ec.generate_private_key(ec.SECP256R1()),
    "RS384": rsa.generate_private_key(public_exponent=65537, key_size=2048),
}
KEYS["RS256"] = KEYS["RS384"]
KIDS = {"ES384": "ec384", "ES256": "ec256", "RS384": "rsa", "RS256": "rsa"}
ATTACKER = ec.generate_private_key(ec.SECP384R1())


def _jwk(private: Any, kid: str) -> dict[str, Any]:
    public = private.public_key()
    algorithm = ECAlgorithm if isinstance(public, ec.EllipticCurvePublicKey) else RSAAlgorithm
    entry: dict[str, Any] = algorithm.to_jwk(public, as_dict=True)
    entry.update({"kid": kid, "use": "sig"})
    return entry


TRUSTED_JWKS = {
    "keys": [
        _jwk(KEYS["ES384"], "ec384"),
        _jwk(KEYS["ES256"], "ec256"),
        _jwk(KEYS["RS384"], "rsa"),
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},  # ignored: symmetric
    ]
}
ATTACKER_JWKS = {"keys": [_jwk(ATTACKER, "ec384")]}


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[JsonServer]:
    documents = {"/jwks.json": TRUSTED_JWKS, "/evil/jwks.json": ATTACKER_JWKS}
    with closing(JsonServer(documents)) as server:
        yield server


@pytest.fixture
def ledger(sqlite_url: str) -> Iterator[Store]:
    with closing(Store.from_url(sqlite_url, HASH_KEY)) as store:
        yield store


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as opened:
        yield opened


@pytest.fixture
def verifier(jwks_server: JsonServer, ledger: Store, session: requests.Session) -> Verifier:
    issuers = [
        {
            "iss": ISS,
            "jwks_url": f"{jwks_server.url}/jwks.json",
            "jku_allow": [f"{jwks_server.url}/jwks.json"],
        }
    ]
    return Verifier(issuers, ledger.guarded_replay, session, leeway_seconds=5)


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _token(
    alg: str = "ES384", key: Any = None, headers: dict[str, Any] | None = None, **claims: Any
) -> str:
    header = {"kid": KIDS.get(alg, "ec384"), "typ": "JWT", **(headers or {})}
    return jwt.encode(_claims(**claims), key or KEYS[alg], algorithm=alg, headers=header)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _refusal(verifier: Verifier, token: str, audience: str = AUD) -> str:
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(f"Bearer {token}", audience, "203.0.113.9")
    error = caught.value
    assert error.status == 401
    rendered = json.dumps(error.operation_outcome())
    for part in token.split("."):
        if len(part) > 8:
            assert part not in rendered  # the token is never echoed
    return error.reason


@pytest.mark.parametrize("alg", ["ES384", "RS384", "ES256", "RS256"])
def test_accepted(verifier: Verifier, alg: str) -> None:
    claims = verifier.verify(f"Bearer {_token(alg, tenant='clinic-1')}", AUD, "203.0.113.9")
    assert claims is not None
    assert claims.iss == ISS and claims.kid == KIDS[alg] and claims.tenant == "clinic-1"


def test_jwks_is_cached(verifier: Verifier, jwks_server: JsonServer) -> None:
    before = jwks_server.hits.get("/jwks.json", 0)
    for _ in range(3):
        verifier.verify(f"Bearer {_token()}", AUD, "203.0.113.9")
    assert jwks_server.hits["/jwks.json"] - before == 1


def test_audience_may_be_a_list(verifier: Verifier) -> None:
    token = _token(aud=["https://other", AUD])
    assert verifier.verify(f"Bearer {token}", AUD, "203.0.113.9") is not None


def test_wrong_signature(verifier: Verifier) -> None:
    assert "signature" in _refusal(verifier, _token(key=ATTACKER))


def test_expired(verifier: Verifier) -> None:
    now = int(time.time())
    assert "expired" in _refusal(verifier, _token(iat=now - 600, exp=now - 60))


def test_issued_in_the_future(verifier: Verifier) -> None:
    now = int(time.time())
    assert "not valid yet" in _refusal(verifier, _token(iat=now + 600, exp=now + 900))


def test_wrong_audience(verifier: Verifier) -> None:
    reason = _refusal(verifier, _token(aud="https://cds.example.org/cds-services/other"))
    assert "aud" in reason


def test_unknown_issuer(verifier: Verifier) -> None:
    assert "issuer" in _refusal(verifier, _token(iss="https://evil.example.org"))


def test_replayed_jti(verifier: Verifier) -> None:
    token = _token()
    assert verifier.verify(f"Bearer {token}", AUD, "203.0.113.9") is not None
    assert "replay" in _refusal(verifier, token)


def test_missing_jti(verifier: Verifier) -> None:
    assert "jti" in _refusal(verifier, _token(jti=None))


def test_lifetime_over_an_hour(verifier: Verifier) -> None:
    now = int(time.time())
    assert "lifetime" in _refusal(verifier, _token(iat=now, exp=now + 7200))


def test_alg_none(verifier: Verifier) -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "ec384"}).encode())
    body = _b64(json.dumps(_claims()).encode())
    assert "algorithm" in _refusal(verifier, f"{header}.{body}.")


def test_hs256_with_the_public_key_as_secret(verifier: Verifier) -> None:
    public_pem = (
        KEYS["RS384"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa"}).encode())
    body = _b64(json.dumps(_claims()).encode())
    signature = _b64(hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest())
    assert "algorithm" in _refusal(verifier, f"{header}.{body}.{signature}")


def test_jku_not_on_the_allow_list(verifier: Verifier, jwks_server: JsonServer) -> None:
    # The issuer has keys of its own: an unlisted jku is ignored (never fetched) and the
    # token is checked against the configured keys, which the attacker's key does not match.
    evil = f"{jwks_server.url}/evil/jwks.json"
    token = _token(key=ATTACKER, headers={"jku": evil})
    assert "signature" in _refusal(verifier, token)
    assert jwks_server.hits.get("/evil/jwks.json", 0) == 0  # never even fetched


def test_unlisted_jku_verified_against_the_configured_keys(
    verifier: Verifier, jwks_server: JsonServer
) -> None:
    # The CDS Hooks sandbox signs with a jku; the issuer's configured keys verify it.
    elsewhere = f"{jwks_server.url}/sandbox/jwks.json"
    token = _token(headers={"jku": elsewhere})
    claims = verifier.verify(f"Bearer {token}", AUD, "203.0.113.9")
    assert claims is not None and claims.iss == ISS
    assert jwks_server.hits.get("/sandbox/jwks.json", 0) == 0


def test_unlisted_jku_refused_when_the_issuer_has_no_keys_of_its_own(
    jwks_server: JsonServer, ledger: Store, session: requests.Session
) -> None:
    only_jku = Verifier(
        [{"iss": ISS, "jku_allow": [f"{jwks_server.url}/jwks.json"]}],
        ledger.guarded_replay,
        session,
    )
    evil = f"{jwks_server.url}/evil/jwks.json"
    with pytest.raises(Unauthorized) as refused:
        only_jku.verify(f"Bearer {_token(headers={'jku': evil})}", AUD, "203.0.113.9")
    assert "jku" in refused.value.reason
    assert jwks_server.hits.get("/evil/jwks.json", 0) == 0


def test_jku_on_the_allow_list(
    jwks_server: JsonServer, ledger: Store, session: requests.Session
) -> None:
    allowed = f"{jwks_server.url}/jwks.json"
    verifier = Verifier([{"iss": ISS, "jku_allow": [allowed]}], ledger.guarded_replay, session)
    token = _token(headers={"jku": allowed})
    assert verifier.verify(f"Bearer {token}", AUD, "203.0.113.9") is not None


def test_jwks_file(tmp_path: Path, ledger: Store) -> None:
    (tmp_path / "keys.json").write_text(json.dumps(TRUSTED_JWKS))
    verifier = Verifier(
        [{"iss": ISS, "jwks_file": "keys.json"}], ledger.guarded_replay, base_dir=tmp_path
    )
    try:
        assert verifier.verify(f"Bearer {_token('RS384')}", AUD, "203.0.113.9") is not None
    finally:
        verifier.close()


def test_unreachable_jwks(ledger: Store, session: requests.Session) -> None:
    issuers = [{"iss": ISS, "jwks_url": "http://127.0.0.1:9/jwks.json"}]
    verifier = Verifier(issuers, ledger.guarded_replay, session, jwks_timeout_seconds=1)
    assert "could not be obtained" in _refusal(verifier, _token())


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-jwt"])
def test_missing_or_malformed_header(verifier: Verifier, header: str | None) -> None:
    with pytest.raises(Unauthorized):
        verifier.verify(header, AUD, "127.0.0.1")  # loopback does not matter once auth is on


def test_no_issuers_allows_loopback_only(ledger: Store, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="injection_cds.web.auth"):
        verifier = Verifier([], ledger.guarded_replay)
    try:
        assert "AUTHENTICATION DISABLED" in caplog.text
        assert verifier.verify(None, AUD, "127.0.0.1") is None
        assert verifier.verify(None, AUD, "::1") is None
        assert verifier.verify(None, AUD, "::ffff:127.0.0.1") is None
        with pytest.raises(Unauthorized):
            verifier.verify(None, AUD, "192.168.1.20")
        with pytest.raises(Unauthorized):
            verifier.verify(None, AUD, None)
    finally:
        verifier.close()


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.2") and is_loopback("::1")
    assert not is_loopback("10.0.0.1") and not is_loopback("garbage") and not is_loopback("")
