"""Prefetch resolution, and the FHIR server fallback when a key is absent.

CDS Hooks 2.0 §Prefetch: a key may be absent (the client chose not to or could not
prefetch), ``null`` (no data), a resource or searchset Bundle, or an OperationOutcome (the
client failed to prefetch). Absent or failed keys are fetched from ``fhirServer`` with the
``fhirAuthorization`` bearer token; when that cannot be done for a required key the answer
is 412 Precondition Failed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

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


@dataclass
class FhirClient:
    """Reads from the EHR's FHIR server: bearer token, short timeouts, https only."""

    session: requests.Session
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    allow_http_loopback: bool = False
    max_pages: int = 20

    def check_server(self, fhir_server: str) -> None:
        """Refuse a server this service must not call (400)."""
        parts = urlsplit(fhir_server)
        if parts.scheme == "https" and parts.hostname:
            return
        if parts.scheme == "http" and self.allow_http_loopback and _is_loopback(parts.hostname):
            return
        raise BadRequest(
            "fhirServer must be an https URL (http is allowed only for a loopback server "
            "when the configuration allows it)",
            where="fhirServer",
        )

    def get(self, fhir_server: str, query: str, token: str | None) -> list[Json]:
        """The resources a read or search returns, following ``next`` pages on that server."""
        base = fhir_server.rstrip("/") + "/"
        url: str | None = urljoin(base, query)
        origin = urlsplit(base)[:2]
        headers = {"Accept": _FHIR_JSON}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        collected: list[Json] = []
        for _ in range(self.max_pages):
            if url is None:
                break
            if urlsplit(url)[:2] != origin:
                raise FetchFailed("a next link points away from the FHIR server")
            body = self._get_json(url, headers)
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

    def _get_json(self, url: str, headers: dict[str, str]) -> dict[str, Any] | None:
        try:
            response = self.session.get(
                url,
                headers=headers,
                timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise FetchFailed(type(exc).__name__) from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise FetchFailed(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise FetchFailed("not JSON") from None
        if not isinstance(body, dict):
            raise FetchFailed("not a FHIR resource")
        return body


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
    fetched: list[str] = []
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
        out[key.key] = _fetch(key, query, fhir_server, token, client)
        if fhir_server and client is not None:
            fetched.append(key.key)
    return ResolvedPrefetch(out, tuple(fetched))


def _fetch(
    key: PrefetchKey,
    query: str,
    fhir_server: str | None,
    token: str | None,
    client: FhirClient | None,
) -> list[Json]:
    if not fhir_server or client is None:
        if key.required:
            raise PreconditionFailed(
                f"prefetch key {key.key!r} was absent or failed, and the request has no "
                "fhirServer to fetch it from",
                where=f"prefetch.{key.key}",
            )
        return []
    try:
        bodies = client.get(fhir_server, query, token)
    except FetchFailed as exc:
        if key.required:
            raise PreconditionFailed(
                f"prefetch key {key.key!r} could not be fetched from the FHIR server ({exc})",
                where=f"prefetch.{key.key}",
            ) from None
        return []
    resources: list[Json] = []
    for body in bodies:
        resources.extend(validated_resources(body, f"fhirServer response for {key.key!r}"))
    return resources
