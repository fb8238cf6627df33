"""FHIR R4 resources drawn from the seeded generator: Patient, Coverage, Condition, Medication."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from random import Random
from typing import Any, TypedDict

from injection_cds.core import codes
from injection_cds.devtools.synthetic.constants import (
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    GAPS,
    SNOMED_ROUTE_DISPLAY,
    SUBSCRIBER_RELATIONSHIP,
    TEXT_ROUTES,
    Json,
)
from injection_cds.devtools.synthetic.drugs import PAYERS, DrugSpec

_GIVEN = ("Alex", "Sam", "Jordan", "Maria", "Wei", "Fatima", "John", "Aiko", "Priya", "Luca")
_FAMILY = ("Testpatient", "Synthetic", "Example", "Sample", "Demo", "Fixture", "Mock")
CLINICIANS = ("Nurse Rivera, RN", "Nurse Okafor, RN", "Dr. Chen", "Dr. Patel", "Nurse Kim, LPN")


class EncounterResources(TypedDict):
    """The resources of one generated encounter, by role."""

    patient: Json
    encounter: Json
    conditions: list[Json]
    coverage: list[Json]
    charge_items: list[Json]
    administrations: list[Json]
    medications: list[Json]
    orders: list[Json]
    practitioner: str


def new_id(rng: Random) -> str:
    """A UUID drawn from the seeded generator (so ids are reproducible)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def weighted_choice(rng: Random, options: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """One option, drawn by the weight in its last field."""
    return rng.choices(options, weights=[o[-1] for o in options])[0]


def iso_time(moment: datetime) -> str:
    """An instant as FHIR dateTime text."""
    return moment.isoformat(timespec="seconds")


def reference_to(resource_type: str, resource_id: str, display: str | None = None) -> Json:
    """A FHIR Reference to ``Type/id``."""
    reference: Json = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        reference["display"] = display
    return reference


def coding_of(system: str, code: str, display: str | None = None) -> Json:
    """A FHIR Coding."""
    found: Json = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def patient_resource(rng: Random) -> Json:
    """A synthetic Patient (names from a fixed list of obviously fake ones)."""
    born = datetime(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 80))
    return {
        "resourceType": "Patient",
        "id": new_id(rng),
        "identifier": [
            {"system": "urn:oid:2.16.840.1.113883.19.5", "value": f"MRN{rng.randrange(10**7):07d}"}
        ],
        "name": [{"use": "official", "family": rng.choice(_FAMILY), "given": [rng.choice(_GIVEN)]}],
        "gender": rng.choice(("female", "male")),
        "birthDate": born.date().isoformat(),
    }


def coverage_resource(rng: Random, patient_id: str) -> Json:
    """The patient's active Coverage, typed in Source of Payment Typology."""
    code, display, payer, _ = weighted_choice(rng, PAYERS)
    return {
        "resourceType": "Coverage",
        "id": new_id(rng),
        "status": "active",
        "type": {"coding": [coding_of(codes.PAYMENT_TYPOLOGY, code, display)]},
        "subscriberId": f"{rng.randrange(10**9):09d}",
        "beneficiary": reference_to("Patient", patient_id),
        "relationship": {"coding": [coding_of(SUBSCRIBER_RELATIONSHIP, "self", "Self")]},
        "period": {"start": "2025-01-01"},
        "payor": [reference_to("Organization", f"payer-{code}", payer)],
    }


def condition_resource(
    rng: Random, code: str, display: str, patient_id: str, encounter_id: str, when: str
) -> Json:
    """An encounter-diagnosis Condition coded in ICD-10-CM."""
    return {
        "resourceType": "Condition",
        "id": new_id(rng),
        "clinicalStatus": {"coding": [coding_of(CONDITION_CLINICAL, "active")]},
        "verificationStatus": {"coding": [coding_of(CONDITION_VERIFICATION, "confirmed")]},
        "category": [{"coding": [coding_of(CONDITION_CATEGORY, "encounter-diagnosis")]}],
        "code": {"coding": [coding_of(codes.ICD10CM, code, display)], "text": display},
        "subject": reference_to("Patient", patient_id),
        "encounter": reference_to("Encounter", encounter_id),
        "recordedDate": when,
    }


def _malformed(ndc: str) -> str:
    return ndc.replace("-", "")  # an unhyphenated 10-digit NDC is ambiguous (DOC007)


def medication_resource(
    rng: Random, spec: DrugSpec, med_id: str, gaps: set[str], given: datetime
) -> Json:
    """The contained Medication: NDC, RxNorm, lot and expiry, with the gaps drawn."""
    code_codings: list[Json] = []
    if "no_ndc" not in gaps:
        ndc = _malformed(spec.ndc) if "malformed_ndc" in gaps else spec.ndc
        code_codings.append(coding_of(codes.NDC, ndc, spec.text))
    if spec.rxnorm_product:
        code_codings.append(coding_of(codes.RXNORM, *spec.rxnorm_product))
    if spec.cvx:
        code_codings.append(coding_of(codes.CVX, *spec.cvx))
    code: Json = {"text": spec.text}
    if code_codings:
        code = {"coding": code_codings, "text": spec.text}
    medication: Json = {
        "resourceType": "Medication",
        "id": med_id,
        "code": code,
        "ingredient": [
            {
                "itemCodeableConcept": {
                    "coding": [coding_of(codes.RXNORM, *spec.rxnorm_ingredient)]
                },
                "isActive": True,
            }
        ],
    }
    batch: Json = {}
    if "no_lot" not in gaps:
        batch["lotNumber"] = f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.randrange(10**5):05d}"
    if "no_expiration" not in gaps:
        if "expired" in gaps:
            expires = given - timedelta(days=rng.randrange(3, 120))
        else:
            expires = given + timedelta(days=rng.randrange(60, 900))
        batch["expirationDate"] = expires.date().isoformat()
    if batch:
        medication["batch"] = batch
    return medication


def route_concept(rng: Random, spec: DrugSpec, gaps: set[str]) -> Json:
    """The dosage route: SNOMED CT, or text only when that gap was drawn."""
    kind = rng.choice(spec.routes)
    if "text_route" in gaps:
        return {"text": rng.choice(TEXT_ROUTES[kind])}
    if kind == "IVPUSH":
        coding = coding_of(codes.V3_ROUTE, "IVPUSH", "Intravenous push")
    else:
        snomed = "78421000" if kind == "IM" else "34206005"
        coding = coding_of(codes.SNOMED, snomed, SNOMED_ROUTE_DISPLAY[snomed])
    return {"coding": [coding]}


def draw_gaps(rng: Random, gap_rate: float) -> set[str]:
    """The charting gaps of one administration (none, one or two)."""
    if rng.random() >= gap_rate:
        return set()
    return set(rng.sample(GAPS, 1 if rng.random() < 0.75 else 2))
