"""Administrations and orders as facts: route, dose, reasons, waste, who supplied the drug."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from injection_cds.core import codes
from injection_cds.core.codes import RouteKind
from injection_cds.core.extraction.index import ResourceIndex
from injection_cds.core.extraction.medication import drug_facts
from injection_cds.core.extraction.route import classify_route
from injection_cds.core.facts import (
    Administration,
    Drug,
    Performer,
    Quantity,
    Reason,
    concept,
    concepts,
    instant,
    quantity,
    reference_of,
)
from injection_cds.core.immunization import vaccine_funding_of

Json = Mapping[str, Any]
# Whether the drug reference knows a drug as an injected product (its NDC or code): the
# catalog's ``knows_injectable``, passed in by the caller so this module stays free of data.
InjectableCheck = Callable[[Drug], bool]


# --- reasons -------------------------------------------------------------------------------
def reason_facts(owner: Json, index: ResourceIndex) -> tuple[Reason, ...]:
    """ReasonCode and reasonReference, each resolved to what it names."""
    reasons = [Reason("code", concept=c) for c in concepts(owner.get("reasonCode"))]
    for raw in owner.get("reasonReference") or ():
        reference = reference_of(raw)
        target = index.resolve(reference, owner)
        if target is None:
            kind = "procedure" if reference and "Procedure/" in reference else "unresolved"
            reasons.append(Reason(kind, reference=reference))  # type: ignore[arg-type]
        elif target.get("resourceType") == "Procedure":
            reasons.append(Reason("procedure", concept(target.get("code")), reference))
        else:
            reasons.append(Reason("condition", concept(target.get("code")), reference))
    return tuple(reasons)


# --- administrations and orders ------------------------------------------------------------
def administration_facts(
    resource: Json, index: ResourceIndex, injectable: InjectableCheck | None = None
) -> Administration:
    """Facts of one MedicationAdministration.

    The linked order stands in for what the administration leaves out (as MIMIC charts):
    its route, its dose, and its Medication (with the package NDC the pharmacy dispensed).
    """
    dosage = resource.get("dosage") or {}
    route = concept(dosage.get("route"))
    kind, coded = classify_route(route)
    request = reference_of(resource.get("request"))
    order = index.resolve(request, resource)
    if order is not None and names_another_drug(resource, order, index):
        order = None
    order_kind, order_coded = _order_route(order)
    effective = instant(resource.get("effectiveDateTime"))
    period = resource.get("effectivePeriod")
    period = period if isinstance(period, Mapping) else None
    if effective is None and period is not None:
        effective = instant(period.get("start")) or instant(period.get("end"))
    performers = tuple(
        Performer(reference_of(p.get("actor")), (p.get("actor") or {}).get("display"))
        for p in resource.get("performer") or ()
        if isinstance(p, Mapping) and p.get("actor")
    )
    return Administration(
        reference=f"MedicationAdministration/{resource.get('id', 'unidentified')}",
        source="administration",
        status=resource.get("status"),
        drug=_with_order_drug(drug_facts(resource, index), order, index, injectable),
        route=route,
        route_kind=kind,
        route_coded=coded,
        site=concept(dosage.get("site")),
        dose=quantity(dosage.get("dose")),
        order_dose=_order_dose(order),
        performers=performers,
        effective=effective,
        request=request,
        reasons=reason_facts(resource, index),
        encounter=reference_of(resource.get("context")) or reference_of(resource.get("encounter")),
        part_of=tuple(r for r in (reference_of(p) for p in resource.get("partOf") or ()) if r),
        order_route_kind=order_kind,
        order_route_coded=order_coded,
        method=concept(dosage.get("method")),
        discarded=_discarded_amount(resource),
        waste_record=_is_waste_record(resource),
        patient_supplied=_patient_supplied(resource, index),
        period_start=instant(period.get("start")) if period else None,
        period_end=instant(period.get("end")) if period else None,
        vaccine_funding=vaccine_funding_of(
            resource, _medication_code(resource, index), index.of_type("Immunization")
        ),
    )


def names_another_drug(administration: Json, order: Json, index: ResourceIndex) -> bool:
    """The linked order is for another drug: it stands in for nothing.

    The order's route, dose and package NDC stand in only for the drug it orders. When the
    administration's drug and the order's drug are both coded in the same local formulary
    system (a code, or the Medication's identifier) and share no code there, the link is
    wrong: MIMIC-IV's demo links a Bactrim DS tablet (BACTDS, 1 TAB) to an influenza vaccine
    order (IM) and oral cephalexin to a heparin SC order; taking those orders' routes billed
    96372 and vaccine administration for tablets. Standard systems are left out: one drug
    has many NDCs (packages) and RxNorm codes (ingredient, clinical, branded), so a
    difference there says nothing.
    """
    given = _formulary_codes(administration, index)
    ordered = _formulary_codes(order, index)
    shared = {system for system, _ in given} & {system for system, _ in ordered}
    return bool(shared) and not any(pair in ordered for pair in given if pair[0] in shared)


def _formulary_codes(owner: Json, index: ResourceIndex) -> set[tuple[str, str]]:
    """(system, code) of the drug's local formulary codes and its Medication's identifiers."""
    found: list[tuple[Any, Any]] = []
    raw = owner.get("medicationCodeableConcept")
    medication = index.resolve(reference_of(owner.get("medicationReference")), owner)
    if medication is not None:
        raw = medication.get("code")
        found.extend(
            (i.get("system"), i.get("value"))
            for i in medication.get("identifier") or ()
            if isinstance(i, Mapping)
        )
    drug = concept(raw)
    if drug is not None:
        found.extend((c.system, c.code) for c in drug.codings)
    return {
        (system, code)
        for system, code in found
        if isinstance(system, str)
        and isinstance(code, str)
        and system not in codes.STANDARD_DRUG_SYSTEMS
        and not codes.NDC_SHAPE.match(code)
    }


def _with_order_drug(
    drug: Drug | None, order: Json | None, index: ResourceIndex, injectable: InjectableCheck | None
) -> Drug | None:
    """The administered drug, with the order's drug and the reference's word on injection."""
    order_drug = drug_facts(order, index) if order is not None else None
    if drug is None or (order_drug is not None and order_drug == drug):
        order_drug = None
    elif order_drug is not None:
        drug = replace(drug, order=order_drug)
    if drug is not None and injectable is not None and injectable(drug):
        drug = replace(drug, injectable_product=True)
    return drug


def _order_dose(order: Json | None) -> Quantity | None:
    """The first dose with a value in the order's instructions.

    An administration's linked order and an order being signed are read the same way.
    """
    if order is None:
        return None
    for instruction in order.get("dosageInstruction") or ():
        if not isinstance(instruction, Mapping):
            continue
        for dose_and_rate in instruction.get("doseAndRate") or ():
            if isinstance(dose_and_rate, Mapping):
                dose = quantity(dose_and_rate.get("doseQuantity"))
                if dose is not None and dose.value is not None:
                    return dose
    return None


def _extension_values(resource: Json, url: str) -> list[Json]:
    return [
        e for e in resource.get("extension") or () if isinstance(e, Mapping) and e.get("url") == url
    ]


def _discarded_amount(resource: Json) -> Quantity | None:
    """The discarded amount charted on the administration (docs/charting-billing.md)."""
    for extension in _extension_values(resource, codes.DISCARDED_AMOUNT_EXTENSION):
        found = quantity(extension.get("valueQuantity"))
        if found is not None and found.value is not None:
            return found
    return None


def _says(words: tuple[str, ...], *texts: str | None) -> bool:
    lowered = " ".join(t for t in texts if t).lower()
    return any(re.search(r"(?<![a-z])" + re.escape(w) + r"(?![a-z])", lowered) for w in words)


def _concept_texts(raw: Any) -> list[str | None]:
    found = concept(raw)
    if found is None:
        return []
    return [found.text, *(c.display for c in found.codings), *(c.code for c in found.codings)]


def _note_texts(resource: Json) -> list[str | None]:
    return [n.get("text") for n in resource.get("note") or () if isinstance(n, Mapping)]


def _is_waste_record(resource: Json) -> bool:
    """A MedicationAdministration that records a wasted amount, not a dose given.

    Its category or dosage.method says waste ("Wasted", "Waste", "Discarded"), or its note
    starts with one of those words (docs/charting-billing.md).
    """
    dosage = resource.get("dosage") or {}
    if _says(
        codes.WASTE_WORDS,
        *_concept_texts(resource.get("category")),
        *_concept_texts(dosage.get("method") if isinstance(dosage, Mapping) else None),
    ):
        return True
    notes = [t.strip().lower() for t in _note_texts(resource) if t]
    return any(note.startswith(codes.WASTE_WORDS) for note in notes)


def _patient_supplied(resource: Json, index: ResourceIndex) -> bool:
    """The patient brought the drug (docs/charting-billing.md).

    The extension on the administration or its Medication says true, or a note says so.
    """
    medication = index.resolve(reference_of(resource.get("medicationReference")), resource)
    for owner in (resource, medication or {}):
        for extension in _extension_values(owner, codes.PATIENT_SUPPLIED_EXTENSION):
            if extension.get("valueBoolean") is True:
                return True
    return _says(codes.PATIENT_SUPPLIED_WORDS, *_note_texts(resource))


def _medication_code(owner: Json, index: ResourceIndex) -> Any:
    """The drug's CodeableConcept JSON: medicationCodeableConcept or the Medication's code."""
    if "medicationCodeableConcept" in owner:
        return owner.get("medicationCodeableConcept")
    medication = index.resolve(reference_of(owner.get("medicationReference")), owner)
    return medication.get("code") if medication else None


def _order_route(order: Json | None) -> tuple[RouteKind | None, bool]:
    if order is None:
        return None, False
    for instruction in order.get("dosageInstruction") or ():
        kind, coded = classify_route(concept(instruction.get("route")))
        if kind is not None:
            return kind, coded
    return None, False


def order_facts(
    resource: Json, index: ResourceIndex, injectable: InjectableCheck | None = None
) -> Administration:
    """Facts of one MedicationRequest being signed (``order-sign``), shaped as an administration.

    Only the rules that apply to orders read it (route, dose, diagnosis, drug, NDC); the
    elements an order cannot carry (site, lot, performer, time) stay empty.
    """
    instructions = resource.get("dosageInstruction") or [{}]
    first = instructions[0] if isinstance(instructions[0], Mapping) else {}
    route = concept(first.get("route"))
    kind, coded = classify_route(route)
    return Administration(
        reference=f"MedicationRequest/{resource.get('id', 'unidentified')}",
        source="order",
        status=resource.get("status"),
        drug=_with_order_drug(drug_facts(resource, index), None, index, injectable),
        route=route,
        route_kind=kind,
        route_coded=coded,
        site=concept(first.get("site")),
        dose=_order_dose(resource),
        performers=(),
        effective=instant(resource.get("authoredOn")),
        request=None,
        reasons=reason_facts(resource, index),
        encounter=reference_of(resource.get("encounter")),
    )
