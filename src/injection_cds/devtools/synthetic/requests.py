"""Whole CDS Hooks requests built from synthetic encounters."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from random import Random

from injection_cds.devtools.synthetic.constants import (
    FHIR_BASE,
    SERVICE_CHARTING,
    SERVICE_DISCHARGE,
    SERVICE_HOOKS,
    SERVICE_ORDER_SIGN,
    Json,
)
from injection_cds.devtools.synthetic.encounters import generate_encounter
from injection_cds.devtools.synthetic.resources import new_id


# --- CDS Hooks requests --------------------------------------------------------------------
def _bundle(bundle_type: str, resources: Sequence[Json], includes: Sequence[Json] = ()) -> Json:
    entries: list[Json] = []
    for mode, group in (("match", resources), ("include", includes)):
        for resource in group:
            entry: Json = {
                "fullUrl": f"{FHIR_BASE}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
            }
            if bundle_type == "searchset":
                entry["search"] = {"mode": mode}
            entries.append(entry)
    bundle: Json = {"resourceType": "Bundle", "type": bundle_type}
    if bundle_type == "searchset":
        bundle["total"] = len(resources)
    if entries:
        bundle["entry"] = entries
    return bundle


def hook_request(
    service: str,
    *,
    n_administrations: int = 1,
    seed: int = 0,
    rng: Random | None = None,
    n_conditions: int = 3,
    n_charge_items: int = 2,
    gap_rate: float = 0.2,
    contained: bool = True,
) -> Json:
    """A whole CDS Hooks request for a service id (or its hook), fully prefetched.

    ``injection-charting``: the administrations being signed go in
    ``context.medicationAdministrations``; ``injection-discharge``: they are prefetched under
    ``medicationAdministrations`` (with their Medications as ``include`` entries when not
    contained); ``injection-order-sign``: ``n_administrations`` draft MedicationRequests go in
    ``context.draftOrders``. Uses ``rng`` if given, else ``random.Random(seed)``.
    """
    if service not in SERVICE_HOOKS:
        by_hook = {hook: sid for sid, hook in SERVICE_HOOKS.items()}
        if service not in by_hook:
            known = ", ".join(sorted(SERVICE_HOOKS))
            raise ValueError(f"unknown service {service!r} (known: {known})")
        service = by_hook[service]
    hook = SERVICE_HOOKS[service]
    rng = rng if rng is not None else Random(seed)
    hook_instance = new_id(rng)
    ordering = service == SERVICE_ORDER_SIGN
    visit = generate_encounter(
        rng,
        0 if ordering else n_administrations,
        n_conditions=n_conditions,
        n_charge_items=n_charge_items,
        gap_rate=gap_rate,
        contained=contained,
        n_orders=n_administrations if ordering else 0,
        encounter_status="finished" if service == SERVICE_DISCHARGE else "in-progress",
    )
    context: Json = {
        "userId": f"Practitioner/{visit['practitioner']}",
        "patientId": visit["patient"]["id"],
        "encounterId": visit["encounter"]["id"],
    }
    prefetch: Json = {
        "encounter": visit["encounter"],
        "conditions": _bundle("searchset", visit["conditions"]),
        "coverage": _bundle("searchset", visit["coverage"]),
        "chargeItems": _bundle("searchset", visit["charge_items"]),
        "patient": visit["patient"],
    }
    if service != SERVICE_ORDER_SIGN:  # the encounter's orders, as services.json prefetches
        prefetch["medicationRequests"] = _bundle("searchset", visit.get("orders") or [])
    if service == SERVICE_CHARTING:
        context["medicationAdministrations"] = _bundle(
            "collection", visit["administrations"] + visit["medications"]
        )
    elif service == SERVICE_DISCHARGE:
        prefetch["medicationAdministrations"] = _bundle(
            "searchset", visit["administrations"], visit["medications"]
        )
    else:
        context["draftOrders"] = _bundle("collection", visit["orders"])
    return {"hook": hook, "hookInstance": hook_instance, "context": context, "prefetch": prefetch}


def request_resources(request: Json) -> Iterator[Json]:
    """Every resource in a generated request (context Bundles and prefetch), for checks."""
    for part in (request.get("context") or {}, request.get("prefetch") or {}):
        for value in part.values():
            if isinstance(value, dict) and "resourceType" in value:
                yield value
                for entry in value.get("entry") or ():
                    yield entry["resource"]
