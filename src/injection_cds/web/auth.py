"""Trusting the EHR (CDS Hooks 2.0 "Trusting CDS Clients"): verify the caller's JWT.

Every call carries ``Authorization: Bearer <JWT>`` signed by the EHR's private key. The
signature is checked against the issuer's JWK Set: its configured ``jwks_url``, a ``jwks_file``,
or the token's ``jku`` header when that URL is on the issuer's allow-list. Then: ``iss`` on the
allow-list, ``aud`` equal to the URL called, ``exp``/``iat`` with a small leeway, a lifetime of
at most an hour, and a ``jti`` never seen before (checked through the store, so every worker
shares it). Only ES384, RS384, ES256 and RS256 are accepted: never ``none``, never HMAC.

A refusal raises ``Unauthorized`` with a reason that names the failed check and never quotes
the token. With no issuer configured only loopback clients may call.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import jwt
import requests

from injection_cds.protocol.errors import Unauthorized as _Unauthorized

log = logging.getLogger("injection_cds.web.auth")

ALLOWED_ALGORITHMS = ("ES384", "RS384", "ES256", "RS256")
_KEY_TYPES = {"ES384": "EC", "ES256": "EC", "RS384": "RSA", "RS256": "RSA"}
_CURVES = {"ES384": "P-384", "ES256": "P-256"}
_REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
_REFETCH_MIN_SECONDS = 10.0

#: The ``auth`` section of the configuration (a JSON Schema; defaults given).
AUTH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "issuers": {
            "type": "array",
            "default": [],
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["iss"],
                "properties": {
                    "iss": {"type": "string", "minLength": 1},
                    "jwks_url": {"type": "string", "pattern": "^https?://"},
                    "jwks_file": {"type": "string", "minLength": 1},
                    "jku_allow": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^https?://"},
                        "default": [],
                    },
                    "tenants": {"type": "array", "items": {"type": "string"}},
                    "fhir_servers": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^https?://"},
                        "default": [],
                        "description": (
                            "The FHIR base URLs this EHR may name as fhirServer (the service "
                            "sends them its bearer token); none: no fetches for this issuer."
                        ),
                    },
                },
                "anyOf": [
                    {"required": ["jwks_url"]},
                    {"required": ["jwks_file"]},
                    {"required": ["jku_allow"], "properties": {"jku_allow": {"minItems": 1}}},
                ],
            },
        },
        "leeway_seconds": {"type": "integer", "minimum": 0, "maximum": 300, "default": 30},
        "jwks_cache_seconds": {"type": "integer", "minimum": 0, "default": 300},
        "max_token_lifetime_seconds": {"type": "integer", "minimum": 1, "default": 3600},
        "jwks_timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "default": 5},
    },
}


def get_configs_info() -> dict[str, dict[str, Any]]:
    """The configuration sections this module declares."""
    return {"auth": AUTH_SCHEMA}


class Unauthorized(_Unauthorized):
    """The caller is not trusted (401). ``reason`` says which check failed; no token in it."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"not authorized: {reason}", where="Authorization")
        self.reason = reason


class JtiStore(Protocol):
    """What the verifier needs from the store: the shared replay check."""

    def seen_jti(self, iss: str, jti: str, expires_at: datetime) -> bool:
        """Remember the jti; True if it had been seen already."""
        ...


@dataclass(frozen=True)
class Issuer:
    """A trusted EHR: its ``iss`` and where its public keys are."""

    iss: str
    jwks_url: str | None = None
    jwks_file: str | None = None
    jku_allow: tuple[str, ...] = ()
    tenants: tuple[str, ...] | None = None
    fhir_servers: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, entry: Mapping[str, Any]) -> Issuer:
        """One ``[[auth.issuers]]`` table."""
        tenants = entry.get("tenants")
        return cls(
            iss=str(entry["iss"]),
            jwks_url=entry.get("jwks_url"),
            jwks_file=entry.get("jwks_file"),
            jku_allow=tuple(entry.get("jku_allow") or ()),
            tenants=tuple(tenants) if tenants is not None else None,
            fhir_servers=tuple(entry.get("fhir_servers") or ()),
        )


@dataclass(frozen=True)
class Claims:
    """The verified claims of a caller's JWT (safe to log: no PHI, not the token)."""

    iss: str
    jti: str
    exp: int
    iat: int
    kid: str | None
    tenant: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class _Key:
    """A public key from a JWK Set, with the JWK fields key selection looks at."""

    jwk: jwt.PyJWK
    kty: str
    kid: str | None
    alg: str | None
    crv: str | None


@dataclass
class _CachedKeys:
    keys: list[_Key]
    fetched: float


def is_loopback(remote_addr: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback."""
    if not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _bearer(header: str | None) -> str:
    if not header:
        raise Unauthorized("missing Authorization: Bearer token")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("the Authorization header must be 'Bearer <JWT>'")
    return token


class Verifier:
    """Verify the EHR's JWT on every call; with no issuer, allow loopback clients only."""

    def __init__(
        self,
        issuers: Sequence[Mapping[str, Any] | Issuer],
        store: JtiStore,
        session: requests.Session | None = None,
        *,
        leeway_seconds: int = 30,
        jwks_cache_seconds: int = 300,
        max_token_lifetime_seconds: int = 3600,
        jwks_timeout_seconds: float = 5.0,
        base_dir: str | Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuers: dict[str, Issuer] = {}
        for entry in issuers:
            issuer = entry if isinstance(entry, Issuer) else Issuer.from_config(entry)
            self.issuers[issuer.iss] = issuer
        self._store = store
        self._session = session or requests.Session()
        self._owns_session = session is None
        self._leeway = leeway_seconds
        self._cache_seconds = jwks_cache_seconds
        self._max_lifetime = max_token_lifetime_seconds
        self._timeout = jwks_timeout_seconds
        self._base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
        self._clock = clock
        self._cache: dict[str, _CachedKeys] = {}
        self._lock = threading.Lock()
        if not self.issuers:
            log.warning(
                "AUTHENTICATION DISABLED: no [[auth.issuers]] configured. Only loopback "
                "clients (127.0.0.1, ::1) may call this service; every other client gets 401. "
                "Configure the EHR's iss and JWKS before exposing the service."
            )
        else:
            log.info("JWT verification on; trusted issuers: %s", ", ".join(sorted(self.issuers)))

    @classmethod
    def from_config(
        cls,
        auth: Mapping[str, Any],
        store: JtiStore,
        session: requests.Session | None = None,
        *,
        base_dir: str | Path | None = None,
    ) -> Verifier:
        """A verifier from the ``auth`` section (see ``AUTH_SCHEMA``)."""
        return cls(
            auth.get("issuers") or [],
            store,
            session,
            leeway_seconds=int(auth.get("leeway_seconds", 30)),
            jwks_cache_seconds=int(auth.get("jwks_cache_seconds", 300)),
            max_token_lifetime_seconds=int(auth.get("max_token_lifetime_seconds", 3600)),
            jwks_timeout_seconds=float(auth.get("jwks_timeout_seconds", 5.0)),
            base_dir=base_dir,
        )

    @property
    def enabled(self) -> bool:
        """True when at least one issuer is configured (JWTs are required)."""
        return bool(self.issuers)

    def close(self) -> None:
        """Close the HTTP session if the verifier made it."""
        if self._owns_session:
            self._session.close()

    # -- the check ----------------------------------------------------------------------------

    def verify(
        self, authorization_header: str | None, audience_url: str, remote_addr: str | None
    ) -> Claims | None:
        """The caller's verified claims; None for a loopback caller when auth is off.

        Raises ``Unauthorized`` (401) naming the failed check.
        """
        if not self.issuers:
            if is_loopback(remote_addr):
                return None
            raise Unauthorized("no trusted issuers are configured; only loopback clients may call")
        token = _bearer(authorization_header)
        header = self._header(token)
        issuer = self._issuer(token)
        keys = self._keys_for(issuer, header)
        payload = self._decode(token, header, keys, issuer, audience_url)
        return self._accept(payload, header, issuer)

    def _header(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("the bearer token is not a well-formed JWT") from None
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise Unauthorized(
                "the JWT algorithm is not accepted (allowed: " + ", ".join(ALLOWED_ALGORITHMS) + ")"
            )
        typ = header.get("typ")
        if typ is not None and str(typ).upper() != "JWT":
            raise Unauthorized("the JWT header typ must be JWT")
        return header

    def _issuer(self, token: str) -> Issuer:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthorized("the bearer token is not a well-formed JWT") from None
        iss = unverified.get("iss")
        if not isinstance(iss, str) or not iss:
            raise Unauthorized("the JWT has no iss claim")
        issuer = self.issuers.get(iss)
        if issuer is None:
            raise Unauthorized("the JWT issuer is not on the allow-list")
        return issuer

    def _keys_for(self, issuer: Issuer, header: Mapping[str, Any]) -> list[_Key]:
        """The candidate verification keys: by kid when given, else every key of the alg's type."""
        source = self._key_source(issuer, header)
        kid = header.get("kid")
        keys = self._load(source, refresh=False)
        matching = self._matching(keys, kid, str(header["alg"]))
        if not matching and kid is not None:
            # Perhaps the EHR rotated its keys: fetch again (at most every few seconds).
            matching = self._matching(self._load(source, refresh=True), kid, str(header["alg"]))
        if not matching:
            raise Unauthorized("no key in the issuer's JWK Set matches the JWT (kid/alg)")
        return matching

    def _key_source(self, issuer: Issuer, header: Mapping[str, Any]) -> str:
        """Where the keys are: an allow-listed ``jku``, else the issuer's configured keys.

        A ``jku`` that is not on the allow-list is never fetched; when the issuer has keys of
        its own (``jwks_url``/``jwks_file``) the token is checked against those instead (the
        CDS Hooks sandbox always sends a ``jku``).
        """
        jku = header.get("jku")
        if jku is not None:
            if isinstance(jku, str) and (jku in issuer.jku_allow or jku == issuer.jwks_url):
                return jku
            if not (issuer.jwks_url or issuer.jwks_file):
                raise Unauthorized("the JWT jku is not on the issuer's allow-list")
        if issuer.jwks_url:
            return issuer.jwks_url
        if issuer.jwks_file:
            return "file:" + issuer.jwks_file
        raise Unauthorized("the issuer has no JWK Set configured and the JWT names no jku")

    @staticmethod
    def _matching(keys: list[_Key], kid: Any, alg: str) -> list[_Key]:
        return [
            key
            for key in keys
            if key.kty == _KEY_TYPES[alg]
            and (kid is None or key.kid == kid)
            and key.alg in (None, alg)
            and (alg not in _CURVES or key.crv == _CURVES[alg])
        ]

    def _load(self, source: str, *, refresh: bool) -> list[_Key]:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(source)
        if cached is not None:
            age = now - cached.fetched
            fresh = age < self._cache_seconds
            if (fresh and not refresh) or (refresh and age < _REFETCH_MIN_SECONDS):
                return cached.keys
        try:
            document = self._fetch(source)
            keys = _parse_jwks(document)
        except (OSError, ValueError, requests.RequestException) as exc:
            if cached is not None:
                log.warning(
                    "JWK Set refresh failed (%s); using the cached keys", type(exc).__name__
                )
                return cached.keys
            raise Unauthorized("the issuer's JWK Set could not be obtained") from None
        with self._lock:
            self._cache[source] = _CachedKeys(keys, now)
        return keys

    def _fetch(self, source: str) -> Any:
        if source.startswith("file:"):
            path = Path(source[len("file:") :])
            if not path.is_absolute():
                path = self._base_dir / path
            return json.loads(path.read_text(encoding="utf-8"))
        response = self._session.get(
            source, timeout=self._timeout, headers={"Accept": "application/json"}
        )
        try:
            response.raise_for_status()
            return response.json()
        finally:
            response.close()

    def _decode(
        self,
        token: str,
        header: Mapping[str, Any],
        keys: list[_Key],
        issuer: Issuer,
        audience_url: str,
    ) -> dict[str, Any]:
        audiences = list(dict.fromkeys([audience_url, audience_url.rstrip("/")]))
        failure: Unauthorized | None = None
        for key in keys:
            try:
                payload: dict[str, Any] = jwt.decode(
                    token,
                    key.jwk.key,
                    algorithms=[str(header["alg"])],
                    audience=audiences,
                    issuer=issuer.iss,
                    leeway=self._leeway,
                    options={"require": _REQUIRED_CLAIMS},
                )
                return payload
            except jwt.InvalidSignatureError:
                failure = Unauthorized("the JWT signature does not verify")
            except jwt.ExpiredSignatureError:
                raise Unauthorized("the JWT has expired") from None
            except jwt.InvalidAudienceError:
                raise Unauthorized("the JWT aud is not the URL that was called") from None
            except jwt.ImmatureSignatureError:
                raise Unauthorized("the JWT is not valid yet (iat/nbf in the future)") from None
            except jwt.InvalidIssuerError:
                raise Unauthorized("the JWT issuer is not on the allow-list") from None
            except jwt.MissingRequiredClaimError as exc:
                raise Unauthorized(f"the JWT lacks the required claim {exc.claim}") from None
            except jwt.PyJWTError as exc:
                failure = Unauthorized(f"the JWT was refused ({type(exc).__name__})")
        raise failure or Unauthorized("the JWT signature does not verify")

    def _accept(
        self, payload: Mapping[str, Any], header: Mapping[str, Any], issuer: Issuer
    ) -> Claims:
        exp, iat, jti = payload["exp"], payload["iat"], payload["jti"]
        if not isinstance(jti, str) or not jti:
            raise Unauthorized("the JWT jti must be a non-empty string")
        if int(exp) - int(iat) > self._max_lifetime:
            raise Unauthorized(f"the JWT lifetime exceeds {self._max_lifetime} seconds")
        tenant = payload.get("tenant")
        if issuer.tenants is not None and tenant not in issuer.tenants:
            raise Unauthorized("the JWT tenant is not on the issuer's allow-list")
        expires_at = datetime.fromtimestamp(int(exp) + self._leeway, UTC)
        if self._store.seen_jti(issuer.iss, jti, expires_at):
            raise Unauthorized("the JWT jti was already used (replay)")
        kid = header.get("kid")
        return Claims(
            iss=issuer.iss,
            jti=jti,
            exp=int(exp),
            iat=int(iat),
            kid=str(kid) if kid is not None else None,
            tenant=str(tenant) if tenant is not None else None,
        )


def _parse_jwks(document: Any) -> list[_Key]:
    """The usable public keys of a JWK Set: EC and RSA only (never symmetric ``oct`` keys)."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set")
    keys = []
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") not in ("EC", "RSA"):
            continue
        if entry.get("use") not in (None, "sig"):
            continue
        if "d" in entry:  # a private key published by mistake: use only its public half
            entry = {k: v for k, v in entry.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
        kid, alg, crv = entry.get("kid"), entry.get("alg"), entry.get("crv")
        if alg is not None and alg not in ALLOWED_ALGORITHMS:
            continue
        try:
            jwk = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue
        keys.append(
            _Key(
                jwk=jwk,
                kty=str(entry["kty"]),
                kid=str(kid) if kid is not None else None,
                alg=str(alg) if alg is not None else None,
                crv=str(crv) if crv is not None else None,
            )
        )
    return keys
