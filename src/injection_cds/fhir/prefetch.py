"""Prefetch resolution, and the FHIR server fallback when a key is absent.

CDS Hooks 2.0 §Prefetch: a key may be absent (the client chose not to or could not
prefetch), ``null`` (no data), a resource or searchset Bundle, or an OperationOutcome (the
client failed to prefetch). Absent or failed keys are fetched from ``fhirServer`` with the
``fhirAuthorization`` bearer token; when that cannot be done for a required key the answer
is 412 Precondition Failed.

The fetches of one call run in parallel under one deadline (``fhir.fetch_budget_seconds``):
an optional key not answered by then is dropped and the response says so in a note; a
required one is a 412. Each response is read as a stream, refused beyond
``fhir.max_response_bytes`` or past the deadline (a server trickling bytes cannot hold the
call). ``fhirServer`` is checked only when something must be fetched from it: https (or
loopback http when allowed), and one of the configured base URLs of the caller's issuer.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import orjson
import requests
import urllib3

from injection_cds.fhir.validation import InvalidResource, Json, validate_resources
from injection_cds.protocol.errors import (
    BadRequest,
    Issue,
    PreconditionFailed,
    UnprocessableResource,
)
from injection_cds.protocol.services import PrefetchKey, ServiceDefinition

_TOKEN = re.compile(r"\{\{\s*context\.([A-Za-z0-9_]+)\s*\}\}")
_USER_TOKEN = re.compile(
    r"\{\{\s*(userPractitionerId|userPractitionerRoleId|userPatientId|userRelatedPersonId)\s*\}\}"
)
_USER_TYPES = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
_FHIR_JSON = "application/fhir+json"
_CHUNK = 64 * 1024
NOTES_EXTENSION = "org.injectioncds.notes"

FHIR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "allow_http_loopback": {"type": "boolean"},
        "connect_timeout": {"type": "number", "exclusiveMinimum": 0},
        "read_timeout": {"type": "number", "exclusiveMinimum": 0},
        "fetch_budget_seconds": {"type": "number", "exclusiveMinimum": 0},
        "max_response_bytes": {"type": "integer", "minimum": 1024},
        "max_pages": {"type": "integer", "minimum": 1},
        "allowed_servers": {"type": "array", "items": {"type": "string", "pattern": "^https?://"}},
        "validation_cache_size": {"type": "integer", "minimum": 0},
        "fast_validation": {"type": "boolean"},
        "strict": {"type": "boolean"},  # fhir/validation.py: no lenient reading (422)
    },
}


def get_configs_info() -> dict[str, dict[str, Any]]:
    """The configuration sections this module declares."""
    return {"fhir": FHIR_SCHEMA}


class FetchFailed(Exception):
    """The FHIR server could not give the data (network, status, not JSON, not allowed)."""


def render_template(query: str, context: Mapping[str, Any]) -> str | None:
    """Fill a prefetch template from the context; None when a token has no value."""
    missing = False

    def context_value(match: re.Match[str]) -> str:
        nonlocal missing
        value = context.get(match.group(1))
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            missing = True
            return ""
        text = str(value).split("/")[-1] if match.group(1) != "userId" else str(value)
        # Percent-encoded: a value cannot add parameters to the query or change its path.
        return quote(text, safe="")

    def user_value(match: re.Match[str]) -> str:
        nonlocal missing
        user = context.get("userId")
        wanted = _USER_TYPES[match.group(1)]
        if isinstance(user, str) and user.startswith(wanted + "/"):
            return quote(user.split("/", 1)[1], safe="")
        missing = True
        return ""

    rendered = _USER_TOKEN.sub(user_value, _TOKEN.sub(context_value, query))
    return None if missing else rendered


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base(url: str) -> str:
    return url.rstrip("/") + "/"


@dataclass
class FhirClient:
    """Reads from the EHR's FHIR server: bearer token, short timeouts, https only."""

    session: requests.Session
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    allow_http_loopback: bool = False
    max_pages: int = 20
    fetch_budget_seconds: float = 2.0
    max_response_bytes: int = 8 * 1024 * 1024
    #: The base URLs a fhirServer must start with; None: any (the scheme rule still applies).
    allowed_servers: tuple[str, ...] | None = None

    def for_servers(self, allowed: tuple[str, ...] | None) -> FhirClient:
        """This client limited to ``allowed`` base URLs (one caller's issuer)."""
        return dataclasses.replace(self, allowed_servers=allowed)

    def server_problem(self, fhir_server: str) -> str | None:
        """Why this service must not call ``fhir_server`` (None when it may); no value echoed."""
        parts = urlsplit(fhir_server)
        secure = parts.scheme == "https" and parts.hostname
        loopback = (
            parts.scheme == "http" and self.allow_http_loopback and _is_loopback(parts.hostname)
        )
        if not (secure or loopback):
            return (
                "fhirServer must be an https URL (http is allowed only for a loopback server "
                "when the configuration allows it)"
            )
        if self.allowed_servers is not None and not any(
            _base(fhir_server).startswith(_base(allowed)) for allowed in self.allowed_servers
        ):
            return (
                "fhirServer is not one of the FHIR servers configured for this client "
                "(auth.issuers[].fhir_servers, or fhir.allowed_servers)"
            )
        return None

    def check_server(self, fhir_server: str) -> None:
        """Refuse a server this service must not call (400)."""
        problem = self.server_problem(fhir_server)
        if problem:
            raise BadRequest(problem, where="fhirServer")

    def get(
        self, fhir_server: str, query: str, token: str | None, deadline: float | None = None
    ) -> list[Json]:
        """The resources a read or search returns, following ``next`` pages on that server."""
        base = _base(fhir_server)
        url: str | None = urljoin(base, query)
        origin = urlsplit(base)[:2]
        headers = {"Accept": _FHIR_JSON}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if deadline is None:
            deadline = time.monotonic() + self.fetch_budget_seconds
        collected: list[Json] = []
        for _ in range(self.max_pages):
            if url is None:
                break
            if urlsplit(url)[:2] != origin:
                raise FetchFailed("a next link points away from the FHIR server")
            body = self._get_json(url, headers, deadline)
            if body is None:
                return collected
            if body.get("resourceType") == "Bundle":
                collected.append(body)
                url = _next_link(url, body)
            else:
                collected.append(body)
                url = None
                break
        if url is not None:
            # Stopping here would answer on part of the data, as if the rest did not exist.
            raise FetchFailed(f"more than {self.max_pages} pages")
        return collected

    def _get_json(
        self, url: str, headers: dict[str, str], deadline: float
    ) -> dict[str, Any] | None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchFailed("out of time")
        try:
            response = self.session.get(
                url,
                headers=headers,
                timeout=(min(self.connect_timeout, remaining), min(self.read_timeout, remaining)),
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            raise FetchFailed(type(exc).__name__) from None
        with response:
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise FetchFailed(f"HTTP {response.status_code}")
            raw = self._read_bounded(response, deadline)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise FetchFailed("not JSON") from None
        if not isinstance(body, dict):
            raise FetchFailed("not a FHIR resource")
        return body

    def _read_bounded(self, response: requests.Response, deadline: float) -> bytes:
        """The body, read as it comes: refused past the size cap or the deadline."""
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_response_bytes:
            raise FetchFailed(f"response over {self.max_response_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                if time.monotonic() > deadline:
                    raise FetchFailed("response not complete within the fetch budget")
                chunk = response.raw.read1(_CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise FetchFailed(f"response over {self.max_response_bytes} bytes")
                chunks.append(chunk)
        except (OSError, urllib3.exceptions.HTTPError) as exc:
            raise FetchFailed(type(exc).__name__) from None
        return b"".join(chunks)


def _next_link(current: str, bundle: Mapping[str, Any]) -> str | None:
    """The absolute URL of a searchset's ``next`` page, if any (FetchFailed when malformed)."""
    links = bundle.get("link") or []
    if not isinstance(links, list):
        raise FetchFailed("Bundle.link is not an array")
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next":
            target = link.get("url")
            if not isinstance(target, str) or not target:
                raise FetchFailed("a next link without a URL")
            return urljoin(current, target)
    return None


@dataclass(frozen=True)
class ResolvedPrefetch:
    """The resources each prefetch key yielded (validated), and where they came from."""

    resources: dict[str, list[Json]]
    fetched: tuple[str, ...]  # keys read from the FHIR server
    notes: tuple[str, ...] = ()  # optional keys left out, and why (for the response)


def _is_operation_outcome(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"


def validated_resources(value: Any, where: str) -> list[Json]:
    """The resources of a prefetch or context value, validated; 422 naming where when not."""
    try:
        resources = validate_resources(value, where)
    except InvalidResource as exc:
        raise UnprocessableResource(
            f"{where} is not valid FHIR R4",
            issues=[_issue(i.location, i.message) for i in exc.issues],
        ) from None
    # Search bundles may carry OperationOutcome entries (search warnings): not data.
    return [r for r in resources if r.get("resourceType") != "OperationOutcome"]


def _issue(location: str, message: str) -> Issue:
    return Issue(f"{location}: {message}", location.split(":")[0], "structure")


def resolve_prefetch(
    service: ServiceDefinition,
    context: Mapping[str, Any],
    prefetch: Mapping[str, Any],
    *,
    fhir_server: str | None,
    token: str | None,
    client: FhirClient | None,
) -> ResolvedPrefetch:
    """Every prefetch key's resources: prefetched, fetched, or 412 when required and neither."""
    out: dict[str, list[Json]] = {}
    to_fetch: list[tuple[PrefetchKey, str]] = []
    for key in service.prefetch:
        query = render_template(key.query, context)
        if query is None:
            out[key.key] = []  # the template does not apply (an optional token is absent)
            continue
        if key.key in prefetch and not _is_operation_outcome(prefetch[key.key]):
            value = prefetch[key.key]
            where = f"prefetch.{key.key}"
            out[key.key] = [] if value is None else validated_resources(value, where)
            continue
        to_fetch.append((key, query))
    if not to_fetch:
        return ResolvedPrefetch(out, ())
    if not fhir_server or client is None:
        for key, _query in to_fetch:
            if key.required:
                raise PreconditionFailed(
                    f"prefetch key {key.key!r} was absent or failed, and the request has no "
                    "fhirServer to fetch it from",
                    where=f"prefetch.{key.key}",
                )
            out[key.key] = []
        return ResolvedPrefetch(out, ())
    # Only now is the server judged: a server never called is never refused. Refused, it is a
    # 400 when required data depends on it, and a note when only optional keys do.
    problem = client.server_problem(fhir_server)
    if problem:
        if any(key.required for key, _ in to_fetch):
            raise BadRequest(problem, where="fhirServer")
        for key, _ in to_fetch:
            out[key.key] = []
        notes = [f"optional prefetch keys were not fetched: {problem}"]
        return ResolvedPrefetch(out, (), tuple(notes))
    notes = _fetch_all(client, fhir_server, token, to_fetch, out)
    return ResolvedPrefetch(out, tuple(key.key for key, _ in to_fetch), tuple(notes))


def _fetch_all(
    client: FhirClient,
    fhir_server: str,
    token: str | None,
    to_fetch: list[tuple[PrefetchKey, str]],
    out: dict[str, list[Json]],
) -> list[str]:
    """Fetch every key in parallel under one deadline; fill ``out``; the notes of dropped keys."""
    budget = client.fetch_budget_seconds
    deadline = time.monotonic() + budget
    pool = ThreadPoolExecutor(len(to_fetch), thread_name_prefix="icds-fhir")
    try:
        futures: dict[Future[list[Json]], PrefetchKey] = {
            pool.submit(client.get, fhir_server, query, token, deadline): key
            for key, query in to_fetch
        }
        wait(futures, timeout=max(deadline - time.monotonic(), 0), return_when="ALL_COMPLETED")
    finally:
        # Late fetches are abandoned: each stops at its next read past the deadline.
        pool.shutdown(wait=False, cancel_futures=True)
    notes: list[str] = []
    for future, key in futures.items():
        problem: str | None = None
        if not future.done():
            problem = f"not answered within the fetch budget ({budget:g} s)"
        else:
            error = future.exception()
            if isinstance(error, FetchFailed):
                problem = str(error)
            elif error is not None:
                problem = type(error).__name__
        if problem is None:
            resources: list[Json] = []
            for body in future.result():
                where = f"fhirServer response for {key.key!r}"
                resources.extend(validated_resources(body, where))
            out[key.key] = resources
        elif key.required:
            raise PreconditionFailed(
                f"prefetch key {key.key!r} could not be fetched from the FHIR server ({problem})",
                where=f"prefetch.{key.key}",
            )
        else:
            out[key.key] = []
            notes.append(
                f"optional prefetch key {key.key!r} was left out: it could not be fetched "
                f"from the FHIR server ({problem})"
            )
    return notes
