"""One hook call, end to end and without HTTP: parse -> resolve -> facts -> rules -> cards.

``call_service`` is what the HTTP layer, ``injection-cds check`` and the tests run. It
raises ``errors.ServiceError`` subclasses for requests it cannot answer; everything else
(missing documentation) becomes cards.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from injection_cds.core.context import RuleContext
from injection_cds.core.extract import visit_facts
from injection_cds.core.extraction.index import ResourceIndex
from injection_cds.core.facts import VisitFacts
from injection_cds.core.pipeline import evaluate_visit
from injection_cds.fhir.prefetch import (
    NOTES_EXTENSION,
    FhirClient,
    resolve_prefetch,
    validated_resources,
)
from injection_cds.fhir.validation import Json, LenientNote, leniency_notes
from injection_cds.protocol.audience import CardPolicy
from injection_cds.protocol.cards import build_cards
from injection_cds.protocol.errors import BadRequest, NotFound, PayloadTooLarge
from injection_cds.protocol.services import ServiceDefinition, load_services, served_hooks
from injection_cds.rules.registry import Finding


@dataclass(frozen=True)
class HookRequest:
    """The CDS Hooks envelope of a service call (CDS Hooks 2.0 §Calling a service)."""

    hook: str
    hook_instance: str
    context: Mapping[str, Any]
    prefetch: Mapping[str, Any]
    fhir_server: str | None
    access_token: str | None


@dataclass
class CallResult:
    """The response body and what produced it (for the ledger, logs and benchmarks)."""

    response: dict[str, Any]
    request: HookRequest
    service: ServiceDefinition
    visit: VisitFacts
    findings: list[Finding]
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The cards of the response."""
        cards: list[dict[str, Any]] = self.response["cards"]
        return cards


def find_service(service_id: str) -> ServiceDefinition:
    """The service with this id (404 when there is none)."""
    service = load_services().get(service_id)
    if service is None:
        raise NotFound("no CDS service with this id", where="service id")
    return service


# Context fields that are FHIR ids (prefetch tokens): strings when present.
_CONTEXT_IDS = ("userId", "patientId", "encounterId")
# Ids that, put in a prefetch URL's path, would read another resource or search a whole type
# (``Encounter/..`` is the FHIR server's root, ``Encounter/`` every Encounter).
_DOT_SEGMENTS = ("", ".", "..")


def _require_string(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"the request must carry {name!r} as a non-empty string", where=name)
    return value


def _require_uuid(body: Mapping[str, Any], name: str) -> str:
    """A UUID string, as the request schema's ``format: uuid`` says (CDS Hooks 2.0)."""
    value = _require_string(body, name)
    try:
        uuid.UUID(value)
    except ValueError:
        raise BadRequest(f"{name!r} must be a UUID", where=name) from None
    return value


def parse_request(body: Any, service: ServiceDefinition) -> HookRequest:
    """Check the envelope: hook, hookInstance, context, prefetch, fhirServer/Authorization."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    hook = _require_string(body, "hook")
    hook_instance = _require_uuid(body, "hookInstance")
    context = body.get("context")
    if not isinstance(context, dict):
        raise BadRequest("the request must carry 'context' as an object", where="context")
    if hook != service.hook:
        # Name the hook this service answers, never the value sent (a request value).
        served = "no service here answers it" if hook not in served_hooks() else "another does"
        raise BadRequest(
            f"service {service.id!r} answers hook {service.hook!r} only; {served}", where="hook"
        )
    for name in service.required_context:
        if context.get(name) in (None, "", [], {}):
            raise BadRequest(
                f"context.{name} is required by hook {service.hook!r}", where=f"context.{name}"
            )
    for name in _CONTEXT_IDS:
        value = context.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            raise BadRequest(f"context.{name} must be a non-empty string", where=f"context.{name}")
        if isinstance(value, str) and value.split("/")[-1] in _DOT_SEGMENTS:
            raise BadRequest(
                f"context.{name} must be a FHIR id or Type/id", where=f"context.{name}"
            )
    prefetch = body.get("prefetch", {})
    if not isinstance(prefetch, dict):
        raise BadRequest("'prefetch' must be an object", where="prefetch")
    fhir_server = body.get("fhirServer")
    if fhir_server is not None and (not isinstance(fhir_server, str) or not fhir_server):
        raise BadRequest("'fhirServer' must be a URL", where="fhirServer")
    token = _access_token(body.get("fhirAuthorization"), fhir_server)
    return HookRequest(hook, hook_instance, context, prefetch, fhir_server, token)


def _access_token(authorization: Any, fhir_server: str | None) -> str | None:
    if authorization is None:
        return None
    if not isinstance(authorization, dict):
        raise BadRequest("'fhirAuthorization' must be an object", where="fhirAuthorization")
    token = authorization.get("access_token")
    if not isinstance(token, str) or not token:
        raise BadRequest(
            "fhirAuthorization.access_token is required", where="fhirAuthorization.access_token"
        )
    if not fhir_server:
        raise BadRequest(
            "fhirServer is required when fhirAuthorization is given", where="fhirServer"
        )
    return token


def _context_resources(request: HookRequest, service: ServiceDefinition) -> dict[str, list[Json]]:
    by_role: dict[str, list[Json]] = {}
    for name, role in service.context_resources.items():
        value = request.context.get(name)
        if value is None:
            continue
        by_role.setdefault(role, []).extend(validated_resources(value, f"context.{name}"))
    return by_role


# The response's note on resources read leniently (CDS Hooks 2.0 §Extensions: a top-level
# ``extension`` object with reverse-domain keys). Locations and element names only.
LENIENT_EXTENSION = "org.injectioncds.lenient-reading"


def _note_json(note: LenientNote) -> dict[str, Any]:
    body: dict[str, Any] = {
        "where": note.where,
        "issues": [f"{issue.location}: {issue.message}" for issue in note.issues],
        "note": "not valid FHIR R4; read leniently (fhir.strict = false)",
    }
    if note.elements:  # invalid, and no rule reads them
        body["ignored"] = [f"{note.resource_type}.{element}" for element in note.elements]
    if note.wrapped:  # one object where R4 wants an array
        body["readAsArray"] = [f"{note.resource_type}.{element}" for element in note.wrapped]
    return body


def _plain_id(value: Any, resource_type: str) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.removeprefix(f"{resource_type}/")


def _resources_sent(request: HookRequest) -> int:
    """How many resources the context and prefetch carry (a Bundle counts its entries)."""
    count = 0
    for value in (*request.context.values(), *request.prefetch.values()):
        if not isinstance(value, dict) or "resourceType" not in value:
            continue
        entries = value.get("entry")
        if value["resourceType"] == "Bundle" and isinstance(entries, list):
            count += len(entries)
        else:
            count += 1
    return count


def check_size(request: HookRequest, max_resources: int) -> None:
    """413 before any resource is read when the call carries more than ``max_resources``.

    Reading, checking and answering each resource costs time: past the limit the call
    could not be answered within the request budget (and its cards would run to megabytes).
    """
    sent = _resources_sent(request)
    if sent > max_resources:
        raise PayloadTooLarge(
            f"the request carries {sent} resources; a call reads at most {max_resources} "
            "(budget.max_resources)",
            where="prefetch",
        )


def call_service(
    service_id: str,
    body: Any,
    *,
    ctx: RuleContext,
    base_url: str,
    client: FhirClient | None = None,
    policy: CardPolicy | None = None,
    strict: bool | None = None,
    max_resources: int | None = None,
) -> CallResult:
    """Answer one service call with cards (for the audience the card policy gives its hook).

    ``strict`` (``fhir.strict``): refuse any resource that is not valid R4 (422) instead of
    reading it leniently; None: the process default (``configure_strict``).
    ``max_resources`` (``budget.max_resources``): more resources sent is a 413; None: any.
    """
    started = time.perf_counter()
    service = find_service(service_id)
    request = parse_request(body, service)
    if max_resources is not None:
        check_size(request, max_resources)
    with leniency_notes(strict) as notes:
        by_role = _context_resources(request, service)
        resolved = resolve_prefetch(
            service,
            request.context,
            request.prefetch,
            fhir_server=request.fhir_server,
            token=request.access_token,
            client=client,
        )
    parsed = time.perf_counter()
    index = ResourceIndex()
    for resources in (*by_role.values(), *resolved.resources.values()):
        for resource in resources:
            index.add(resource)
    for key in service.prefetch:
        if key.role is not None:
            by_role.setdefault(key.role, []).extend(resolved.resources.get(key.key, []))
    administrations = [
        r
        for r in by_role.get("administrations", [])
        if r["resourceType"] == "MedicationAdministration"
    ]
    orders = [r for r in by_role.get("orders", []) if r["resourceType"] == "MedicationRequest"]
    visit = visit_facts(
        service.hook,
        index,
        administrations=administrations,
        orders=orders,
        encounter_id=_plain_id(request.context.get("encounterId"), "Encounter"),
        patient_id=_plain_id(request.context.get("patientId"), "Patient"),
        default_payer_class=ctx.settings.default_payer_class,
        injectable=ctx.catalog.knows_injectable,
    )
    facts_done = time.perf_counter()
    evaluation = evaluate_visit(visit, ctx)
    findings = evaluation.findings
    rules_done = time.perf_counter()
    audience = (policy or CardPolicy()).audience_for(service.id, service.hook)
    cards = build_cards(
        findings,
        hook_instance=request.hook_instance,
        base_url=base_url,
        visit=visit,
        ctx=ctx,
        plan=evaluation.plan,
        audience=audience,
        resources={
            f"{r['resourceType']}/{r['id']}": r
            for r in administrations
            if isinstance(r.get("id"), str)
        },
        pruned=frozenset(n.reference for n in notes if n.reference),
    )
    cards_done = time.perf_counter()
    response: dict[str, Any] = {"cards": cards}
    extension: dict[str, Any] = {}
    if resolved.notes:  # data the cards were computed without
        extension[NOTES_EXTENSION] = list(resolved.notes)
    if notes:  # resources read leniently
        extension[LENIENT_EXTENSION] = [_note_json(n) for n in notes]
    if extension:
        response["extension"] = extension
    return CallResult(
        response=response,
        request=request,
        service=service,
        visit=visit,
        findings=findings,
        timings={
            "parse": parsed - started,
            "facts": facts_done - parsed,
            "rules": rules_done - facts_done,
            "cards": cards_done - rules_done,
        },
    )
