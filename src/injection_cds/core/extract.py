"""Build the facts of ``facts.py`` from validated FHIR JSON (no I/O, no FHIR models).

``ResourceIndex`` resolves references the way EHRs write them: contained (``#med1``),
relative (``Medication/123``), absolute (``https://ehr/fhir/Medication/123``) and versioned
(``Medication/123/_history/2``). ``visit_facts`` is the one entry point the pipeline and the
batch audit share.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

from injection_cds.core import codes
from injection_cds.core.codes import RouteKind
from injection_cds.core.facts import (
    Administration,
    AdministrationSource,
    Coding,
    Concept,
    Drug,
    EncounterFacts,
    PatientFacts,
    PayerFacts,
    Performer,
    Procedure,
    Quantity,
    Reason,
    Strength,
    VisitFacts,
    coding,
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

_SURGICAL_PROCEDURE_CATEGORY = "387713003"  # SNOMED "Surgical procedure"
_NAME_IDENTIFIER_SUFFIX = "medication-name"  # a local identifier system that names the drug


class ResourceIndex:
    """The resources of one hook call (or one encounter group), addressable by reference."""

    def __init__(self, resources: Iterable[Json] = ()) -> None:
        self._by_key: dict[str, Json] = {}
        self._by_type: dict[str, list[Json]] = {}
        for resource in resources:
            self.add(resource)

    def add(self, resource: Json) -> None:
        """Index one resource (a later one with the same type and id replaces it)."""
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str):
            return
        resource_id = resource.get("id")
        if isinstance(resource_id, str):
            key = f"{resource_type}/{resource_id}"
            if key in self._by_key:
                bucket = self._by_type[resource_type]
                bucket[:] = [r for r in bucket if r.get("id") != resource_id]
            self._by_key[key] = resource
        self._by_type.setdefault(resource_type, []).append(resource)

    def of_type(self, resource_type: str) -> list[Json]:
        """Every indexed resource of this type."""
        return self._by_type.get(resource_type, [])

    def resolve(self, reference: str | None, container: Json | None = None) -> Json | None:
        """The resource a reference names, or None when it is not here."""
        if not reference:
            return None
        if reference.startswith("#"):
            if container is None:
                return None
            wanted = reference[1:]
            for contained in container.get("contained") or ():
                if isinstance(contained, Mapping) and contained.get("id") == wanted:
                    return contained
            return None
        return self._by_key.get(normalise_reference(reference))


@lru_cache(maxsize=8192)  # pure; the same references are resolved again and again
def normalise_reference(reference: str) -> str:
    """``Type/id`` from a relative, absolute or versioned reference."""
    parts = reference.split("?")[0].rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return "/".join(parts[-2:]) if len(parts) >= 2 else reference


# --- route ---------------------------------------------------------------------------------
def classify_route(route: Concept | None) -> tuple[RouteKind | None, bool]:
    """What a route says, and whether it is coded in a route code system this service knows.

    A route charted as a body site (a SNOMED site code in ``route``), as text only, or in a
    local system is *uncoded*; its kind is still read from the text where it can be, so the
    service can tell an injection from a tablet.
    """
    if route is None:
        return None, False
    for c in route.codings:
        if not c.code:
            continue
        if c.system == codes.SNOMED and c.code in codes.SNOMED_ROUTES:
            return codes.SNOMED_ROUTES[c.code], True
        if c.system == codes.V3_ROUTE and c.code in codes.V3_ROUTES:
            return codes.V3_ROUTES[c.code], True
        if c.system == codes.V3_ROUTE and c.code in codes.V3_ROUTE_INJECTION_CODES:
            return RouteKind.OTHER_INJECTION, True
        if c.system == codes.V3_ROUTE and c.code in codes.V3_ROUTE_OTHER_CODES:
            return RouteKind.NOT_INJECTION, True
    for word in _route_words(route):
        kind = codes.TEXT_ROUTES.get(word)
        if kind is not None:
            return kind, False
    return None, False


def _route_words(route: Concept) -> list[str]:
    words = [route.text or ""]
    for c in route.codings:
        words.extend([c.code or "", c.display or ""])
    return [w.strip().upper() for w in words if w and w.strip()]


# --- the drug ------------------------------------------------------------------------------
def drug_facts(owner: Json, index: ResourceIndex) -> Drug | None:
    """The drug of a MedicationAdministration or MedicationRequest; None if none charted."""
    codeable = concept(owner.get("medicationCodeableConcept"))
    reference_raw = owner.get("medicationReference")
    if reference_raw is None:
        return Drug(concept=codeable) if codeable is not None else None
    reference = reference_of(reference_raw)
    medication = index.resolve(reference, owner)
    if medication is None:
        display = reference_raw.get("display") if isinstance(reference_raw, Mapping) else None
        return Drug(
            concept=Concept((), display) if display else None,
            reference=reference,
            resolved=False,
        )
    batch = medication.get("batch") or {}
    ingredients: list[Concept] = []
    for ingredient in medication.get("ingredient") or ():
        item = concept(ingredient.get("itemCodeableConcept"))
        if item is None:
            inner = index.resolve(reference_of(ingredient.get("itemReference")), medication)
            item = medication_concept(inner) if inner else None
        if item is not None:
            ingredients.append(item)
    return Drug(
        concept=medication_concept(medication),
        reference=reference,
        resolved=True,
        form=concept(medication.get("form")),
        lot_number=batch.get("lotNumber") or None,
        expiration=instant(batch.get("expirationDate")),
        ingredients=tuple(ingredients),
        strength=_strength(medication),
    )


def medication_concept(medication: Json) -> Concept | None:
    """``Medication.code``, named by a local name identifier when the code has no text.

    MIMIC keeps the drug's name in ``identifier`` (system ``.../mimic-medication-name``) and
    only the NDC in ``code``; the name is what a coder reads next to the NDC.
    """
    found = concept(medication.get("code"))
    if found is not None and (found.text or any(c.display for c in found.codings)):
        return found
    names = [
        i.get("value")
        for i in medication.get("identifier") or ()
        if isinstance(i, Mapping)
        and isinstance(i.get("value"), str)
        and str(i.get("system") or "").endswith(_NAME_IDENTIFIER_SUFFIX)
    ]
    if not names:
        return found
    return Concept(found.codings if found else (), names[0])


def _strength(medication: Json) -> Strength | None:
    """The strength of a single-ingredient product, when charted with a numerator value."""
    strengths: list[Mapping[str, Any]] = []
    for ingredient in medication.get("ingredient") or ():
        if isinstance(ingredient, Mapping) and isinstance(ingredient.get("strength"), Mapping):
            strengths.append(ingredient["strength"])
    if len(strengths) != 1:
        return None
    numerator = quantity(strengths[0].get("numerator"))
    if numerator is None or numerator.value is None or numerator.value <= 0:
        return None
    return Strength(numerator, quantity(strengths[0].get("denominator")))


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
    dose = None
    for dose_and_rate in first.get("doseAndRate") or ():
        dose = quantity(dose_and_rate.get("doseQuantity"))
        if dose is not None:
            break
    return Administration(
        reference=f"MedicationRequest/{resource.get('id', 'unidentified')}",
        source="order",
        status=resource.get("status"),
        drug=_with_order_drug(drug_facts(resource, index), None, index, injectable),
        route=route,
        route_kind=kind,
        route_coded=coded,
        site=concept(first.get("site")),
        dose=dose,
        performers=(),
        effective=instant(resource.get("authoredOn")),
        request=None,
        reasons=reason_facts(resource, index),
        encounter=reference_of(resource.get("encounter")),
    )


# --- encounter, patient, payer -------------------------------------------------------------
def encounter_facts(encounter: Json, index: ResourceIndex) -> EncounterFacts:
    """Facts of the encounter, with its diagnoses, E/M codes and place of service."""
    reference = f"Encounter/{encounter.get('id', 'unidentified')}"
    class_raw = encounter.get("class")
    class_code = class_raw.get("code") if isinstance(class_raw, Mapping) else None
    types = concepts(encounter.get("type"))
    charted_pos, location_label = _charted_place_of_service(encounter, index, types)
    diagnoses = list(_encounter_diagnoses(encounter, index))
    charge_codes = list(_charge_item_codes(reference, index))
    em_codes = sorted(
        {code for t in types for code in t.codes(codes.CPT) if code in codes.EM_CODES_OFFICE}
        | {c.code for c in charge_codes if c.code in codes.EM_CODES_OFFICE and c.code}
    )
    period = encounter.get("period") or {}
    return EncounterFacts(
        reference=reference,
        class_code=class_code,
        place_of_service=charted_pos or codes.CLASS_TO_PLACE_OF_SERVICE.get(class_code or ""),
        place_of_service_charted=charted_pos is not None,
        types=types,
        diagnoses=tuple(diagnoses),
        em_codes=tuple(em_codes),
        charge_item_codes=tuple(charge_codes),
        charged=frozenset(_charged_services(reference, index)),
        location_label=location_label,
        service_provider=reference_of(encounter.get("serviceProvider")),
        start=instant(period.get("start")),
        end=instant(period.get("end")),
    )


def _charted_place_of_service(
    encounter: Json, index: ResourceIndex, types: tuple[Concept, ...]
) -> tuple[str | None, str | None]:
    label: str | None = None
    for entry in encounter.get("location") or ():
        location_ref = entry.get("location") if isinstance(entry, Mapping) else None
        location = index.resolve(reference_of(location_ref), encounter)
        if label is None and isinstance(location_ref, Mapping):
            label = location_ref.get("display")
        if location is None:
            continue
        label = location.get("name") or label
        for location_type in concepts(location.get("type")):
            found = location_type.first_code(codes.PLACE_OF_SERVICE)
            role = location_type.first_code(codes.V3_ROLE_CODE)
            found = found or codes.LOCATION_ROLE_TO_POS.get(role or "")
            if found:
                return found, label
    for candidate in (*types, concept(encounter.get("serviceType"))):
        if candidate is not None:
            found = candidate.first_code(codes.PLACE_OF_SERVICE)
            if found:
                return found, label
    return None, label


def _encounter_diagnoses(encounter: Json, index: ResourceIndex) -> Iterable[Concept]:
    seen: set[str] = set()
    for diagnosis in encounter.get("diagnosis") or ():
        ref = reference_of(diagnosis.get("condition")) if isinstance(diagnosis, Mapping) else None
        target = index.resolve(ref, encounter)
        seen.add(ref or "")
        found = concept(target.get("code")) if target else None
        yield found if found is not None else Concept((), ref or "diagnosis")
    # Conditions charted against the encounter (or the hospital stay it is part of) as
    # encounter diagnoses are diagnoses of the encounter too (MIMIC charts them this way).
    own = {f"Encounter/{encounter.get('id')}"}
    parent = reference_of(encounter.get("partOf"))
    if parent:
        own.add(normalise_reference(parent))
    for condition in index.of_type("Condition"):
        condition_encounter = reference_of(condition.get("encounter"))
        if not condition_encounter or normalise_reference(condition_encounter) not in own:
            continue
        if f"Condition/{condition.get('id')}" in seen or not _is_encounter_diagnosis(condition):
            continue
        found = concept(condition.get("code"))
        if found is not None:
            yield found


def _is_encounter_diagnosis(condition: Json) -> bool:
    categories = concepts(condition.get("category"))
    if not categories:
        return True
    return any(c.code == "encounter-diagnosis" for category in categories for c in category.codings)


def _encounter_charge_items(encounter_reference: str, index: ResourceIndex) -> Iterable[Json]:
    """The ChargeItems of this encounter (a ChargeItem with no context counts as its own)."""
    for item in index.of_type("ChargeItem"):
        context = reference_of(item.get("context"))
        if not context or normalise_reference(context) == encounter_reference:
            yield item


def _charge_item_codes(encounter_reference: str, index: ResourceIndex) -> Iterable[Coding]:
    for item in _encounter_charge_items(encounter_reference, index):
        code = concept(item.get("code"))
        if code is not None:
            yield from code.codings


def _charged_services(encounter_reference: str, index: ResourceIndex) -> Iterable[tuple[str, str]]:
    for item in _encounter_charge_items(encounter_reference, index):
        if item.get("status") == "entered-in-error":
            continue
        code = concept(item.get("code"))
        services = [reference_of(s) for s in item.get("service") or ()]
        for coded in code.codings if code else ():
            for service in services:
                if coded.code and service:
                    yield coded.code, normalise_reference(service)


def patient_facts(patient: Json | None) -> PatientFacts | None:
    """The patient's birth date (for age-based vaccine codes); nothing else is read."""
    if patient is None:
        return None
    born = instant(patient.get("birthDate"))
    return PatientFacts(birth_date=born.date if born else None)


def payer_facts(coverages: Iterable[Json], default_class: str) -> PayerFacts:
    """The payer class from the first active Coverage typed in Source of Payment Typology."""
    for coverage in coverages:
        if coverage.get("status") not in (None, "active"):
            continue
        coverage_type = concept(coverage.get("type"))
        payer_ids = tuple(r for r in (reference_of(p) for p in coverage.get("payor") or ()) if r)
        typology = coverage_type.first_code(codes.PAYMENT_TYPOLOGY) if coverage_type else None
        if typology:
            payer_class = codes.PAYMENT_TYPOLOGY_PREFIX.get(typology[:1], default_class)
            return PayerFacts(payer_class, payer_ids, typology)
        if payer_ids:
            return PayerFacts(default_class, payer_ids, None)
    return PayerFacts(default_class)


def procedure_facts(index: ResourceIndex) -> tuple[Procedure, ...]:
    """Procedures present in the call (reached through reasonReference or prefetched)."""
    found = []
    for procedure in index.of_type("Procedure"):
        category = concept(procedure.get("category"))
        surgical = category is not None and _SURGICAL_PROCEDURE_CATEGORY in category.codes(
            codes.SNOMED
        )
        found.append(
            Procedure(f"Procedure/{procedure.get('id')}", concept(procedure.get("code")), surgical)
        )
    return tuple(found)


def visit_facts(
    hook: str,
    index: ResourceIndex,
    *,
    administrations: Iterable[Json] = (),
    orders: Iterable[Json] = (),
    encounter_id: str | None = None,
    patient_id: str | None = None,
    default_payer_class: str = codes.PAYER_CLASS_COMMERCIAL,
    injectable: InjectableCheck | None = None,
) -> VisitFacts:
    """All the facts the rules see for one visit (``injectable``: ``catalog.knows_injectable``)."""
    facts = [administration_facts(r, index, injectable) for r in administrations]
    facts.extend(order_facts(r, index, injectable) for r in orders)
    encounter_json = index.resolve(f"Encounter/{encounter_id}") if encounter_id else None
    if encounter_json is None:
        encounters = index.of_type("Encounter")
        encounter_json = encounters[0] if len(encounters) == 1 else None
    patient_json = index.resolve(f"Patient/{patient_id}") if patient_id else None
    if patient_json is None and len(index.of_type("Patient")) == 1:
        patient_json = index.of_type("Patient")[0]
    return VisitFacts(
        hook=hook,
        administrations=tuple(facts),
        encounter=encounter_facts(encounter_json, index) if encounter_json else None,
        patient=patient_facts(patient_json),
        payer=payer_facts(index.of_type("Coverage"), default_payer_class),
        procedures=procedure_facts(index),
        counselling_documented=counselling_documented(index),
        conditions=condition_codes(index),
        extra={"patient": f"Patient/{patient_json.get('id')}"}
        if patient_json
        else ({"patient": f"Patient/{patient_id}"} if patient_id else {}),
    )


def counselling_documented(index: ResourceIndex) -> bool:
    """Vaccine counselling (90460/90461) is documented: an Immunization with ``education``.

    FHIR R4 records the vaccine information given to the patient or guardian in
    ``Immunization.education`` (documentType / reference / presentationDate); an Immunization
    sent in the call (prefetch or context) with a non-empty ``education`` counts.
    """
    return any(
        bool(immunization.get("education")) for immunization in index.of_type("Immunization")
    )


def condition_codes(index: ResourceIndex) -> tuple[str, ...]:
    """ICD-10-CM codes of every Condition in the call (problem list and diagnoses)."""
    found: list[str] = []
    for condition in index.of_type("Condition"):
        coded = concept(condition.get("code"))
        if coded is not None:
            found.extend(coded.icd10cm_codes())
    return tuple(dict.fromkeys(found))


def age_on(birth_date: date | None, day: date | None) -> int | None:
    """Age in whole years on a day, or None when either is unknown."""
    if birth_date is None or day is None:
        return None
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


__all__ = [
    "AdministrationSource",
    "ResourceIndex",
    "administration_facts",
    "age_on",
    "classify_route",
    "coding",
    "encounter_facts",
    "order_facts",
    "visit_facts",
]
