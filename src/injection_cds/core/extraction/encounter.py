"""The encounter, patient, payer and procedures as facts: setting, diagnoses, charges."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from injection_cds.core import codes
from injection_cds.core.extraction.index import ResourceIndex, normalise_reference
from injection_cds.core.facts import (
    Coding,
    Concept,
    Drug,
    EncounterFacts,
    PatientFacts,
    PayerFacts,
    Procedure,
    concept,
    concepts,
    instant,
    reference_of,
)

Json = Mapping[str, Any]
# Whether the drug reference knows a drug as an injected product (its NDC or code): the
# catalog's ``knows_injectable``, passed in by the caller so this module stays free of data.
InjectableCheck = Callable[[Drug], bool]


_SURGICAL_PROCEDURE_CATEGORY = "387713003"  # SNOMED "Surgical procedure"


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
