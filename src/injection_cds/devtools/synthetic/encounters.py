"""One synthetic encounter: its resources, administrations, gaps and ChargeItems."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random

from injection_cds.core import codes
from injection_cds.devtools.synthetic.constants import (
    DIAGNOSIS_ROLE,
    EPOCH,
    SITE_DISPLAY,
    UCUM_UNIT_TEXT,
    Json,
)
from injection_cds.devtools.synthetic.drugs import (
    DRUGS,
    EM_CODES,
    ENCOUNTER_CLASSES,
    LOCATIONS,
    OTHER_CONDITIONS,
    PROBLEMS,
    DrugSpec,
)
from injection_cds.devtools.synthetic.resources import (
    CLINICIANS,
    EncounterResources,
    coding_of,
    condition_resource,
    coverage_resource,
    draw_gaps,
    iso_time,
    medication_resource,
    new_id,
    patient_resource,
    reference_to,
    route_concept,
    weighted_choice,
)


@dataclass
class _Visit:
    rng: Random
    patient_id: str
    encounter_id: str
    practitioner_id: str
    practitioner_name: str
    start: datetime
    contained: bool
    gap_rate: float

    def administration(self, spec: DrugSpec, reason_id: str, given: datetime) -> tuple[Json, Json]:
        """One MedicationAdministration and its Medication (contained or not)."""
        rng = self.rng
        gaps = draw_gaps(rng, self.gap_rate)
        admin_id = new_id(rng)
        med_id = "med1" if self.contained else new_id(rng)
        medication = medication_resource(rng, spec, med_id, gaps, given)
        route = route_concept(rng, spec, gaps)
        dosage: Json = {"text": f"{_dose_text(spec)} {route.get('text') or ''}".strip()}
        is_iv = any(c.get("code") == "IVPUSH" for c in route.get("coding", ()))
        if "no_site" not in gaps and not is_iv:
            site = rng.choice(spec.sites)
            dosage["site"] = {"coding": [coding_of(codes.V2_BODY_SITE, site, SITE_DISPLAY[site])]}
        dosage["route"] = route
        if "no_dose" not in gaps:
            dosage["dose"] = {
                "value": spec.dose_value,
                "unit": UCUM_UNIT_TEXT[spec.dose_unit],
                "system": codes.UCUM,
                "code": spec.dose_unit,
            }
        resource: Json = {"resourceType": "MedicationAdministration", "id": admin_id}
        if self.contained:
            resource["contained"] = [medication]
            resource["medicationReference"] = {"reference": "#med1", "display": spec.text}
        else:
            resource["medicationReference"] = reference_to("Medication", med_id, spec.text)
        resource["status"] = "completed"
        resource["subject"] = reference_to("Patient", self.patient_id)
        resource["context"] = reference_to("Encounter", self.encounter_id)
        if "no_time" not in gaps:
            resource["effectiveDateTime"] = iso_time(given)
        if "no_performer" not in gaps:
            resource["performer"] = [
                {
                    "actor": reference_to(
                        "Practitioner", self.practitioner_id, self.practitioner_name
                    )
                }
            ]
        if "no_reason" not in gaps:
            resource["reasonReference"] = [reference_to("Condition", reason_id)]
        if "no_request" not in gaps:
            resource["request"] = reference_to("MedicationRequest", new_id(rng))
        resource["dosage"] = dosage
        return resource, medication

    def order(self, spec: DrugSpec, reason_id: str) -> Json:
        """A draft MedicationRequest for the drug (as ``order-sign`` sends it)."""
        rng = self.rng
        route = route_concept(rng, spec, set())
        return {
            "resourceType": "MedicationRequest",
            "id": new_id(rng),
            "status": "draft",
            "intent": "order",
            "medicationCodeableConcept": {
                "coding": [coding_of(codes.NDC, spec.ndc, spec.text)],
                "text": spec.text,
            },
            "subject": reference_to("Patient", self.patient_id),
            "encounter": reference_to("Encounter", self.encounter_id),
            "authoredOn": iso_time(self.start + timedelta(minutes=rng.randrange(5, 30))),
            "requester": reference_to("Practitioner", self.practitioner_id, self.practitioner_name),
            "reasonReference": [reference_to("Condition", reason_id)],
            "dosageInstruction": [
                {
                    "text": f"{_dose_text(spec)} once",
                    "route": route,
                    "doseAndRate": [
                        {
                            "doseQuantity": {
                                "value": spec.dose_value,
                                "unit": UCUM_UNIT_TEXT[spec.dose_unit],
                                "system": codes.UCUM,
                                "code": spec.dose_unit,
                            }
                        }
                    ],
                }
            ],
        }


def _dose_text(spec: DrugSpec) -> str:
    value = f"{spec.dose_value:g}"
    return f"{value} {UCUM_UNIT_TEXT[spec.dose_unit]}"


def generate_encounter(
    rng: Random,
    n_administrations: int,
    *,
    n_conditions: int = 3,
    n_charge_items: int = 2,
    gap_rate: float = 0.2,
    contained: bool = True,
    n_orders: int = 0,
    encounter_status: str = "finished",
    patient: Json | None = None,
    coverage: Json | None = None,
) -> EncounterResources:
    """One encounter's resources: patient, encounter, conditions, coverage, charges, drugs.

    ``n_conditions`` (at least 1) problems are chosen first; each administration treats one
    of them, so reasons and drugs fit together. ``gap_rate`` is the fraction of
    administrations with a charting gap. With ``contained`` the Medication is contained in
    its administration (``#med1``); otherwise it is a separate resource in ``medications``.
    A ``patient`` (and its ``coverage``) can be passed to give a patient several encounters.
    """
    n_conditions = max(1, n_conditions)
    if patient is None:
        patient = patient_resource(rng)
    patient_id = str(patient["id"])
    if coverage is None:
        coverage = coverage_resource(rng, patient_id)
    encounter_id = new_id(rng)
    class_code, class_display, _ = weighted_choice(rng, ENCOUNTER_CLASSES)
    start = EPOCH + timedelta(
        days=rng.randrange(0, 330), hours=rng.randrange(0, 10), minutes=rng.randrange(0, 60)
    )
    visit = _Visit(
        rng=rng,
        patient_id=patient_id,
        encounter_id=encounter_id,
        practitioner_id=new_id(rng),
        practitioner_name=rng.choice(CLINICIANS),
        start=start,
        contained=contained,
        gap_rate=gap_rate,
    )
    problems = rng.sample(PROBLEMS, min(n_conditions, len(PROBLEMS)))
    recorded = iso_time(start + timedelta(minutes=5))
    conditions = [
        condition_resource(rng, p.icd10, p.display, patient_id, encounter_id, recorded)
        for p in problems
    ]
    for _ in range(n_conditions - len(problems)):
        code, display = rng.choice(OTHER_CONDITIONS)
        conditions.append(
            condition_resource(rng, code, display, patient_id, encounter_id, recorded)
        )
    administrations: list[Json] = []
    medications: list[Json] = []
    given = start + timedelta(minutes=rng.randrange(10, 40))
    for _ in range(n_administrations):
        which = rng.randrange(len(problems))
        spec = DRUGS[rng.choice(problems[which].drugs)]
        resource, medication = visit.administration(spec, str(conditions[which]["id"]), given)
        administrations.append(resource)
        if not contained:
            medications.append(medication)
        given += timedelta(minutes=rng.randrange(1, 15))
    end = max(given, start + timedelta(minutes=20)) + timedelta(minutes=rng.randrange(5, 30))
    orders = []
    for _ in range(n_orders):
        which = rng.randrange(len(problems))
        spec = DRUGS[rng.choice(problems[which].drugs)]
        orders.append(visit.order(spec, str(conditions[which]["id"])))
    location = rng.choice(LOCATIONS[class_code])
    encounter: Json = {
        "resourceType": "Encounter",
        "id": encounter_id,
        "status": encounter_status,
        "class": coding_of(codes.V3_ACT_CODE, class_code, class_display),
        "subject": reference_to("Patient", patient_id),
        "participant": [
            {
                "individual": reference_to(
                    "Practitioner", visit.practitioner_id, visit.practitioner_name
                )
            }
        ],
        "period": {"start": iso_time(start)}
        if encounter_status == "in-progress"
        else {"start": iso_time(start), "end": iso_time(end)},
        "diagnosis": [
            {
                "condition": reference_to("Condition", str(c["id"])),
                "use": {"coding": [coding_of(DIAGNOSIS_ROLE, "billing", "Billing")]},
                "rank": rank,
            }
            for rank, c in enumerate(conditions, start=1)
        ],
        "location": [{"location": reference_to("Location", new_id(rng), location)}],
        "serviceProvider": reference_to("Organization", "org-1", "Example Community Health Center"),
    }
    charge_items = [
        _charge_item(rng, index, patient_id, encounter_id, start, administrations)
        for index in range(n_charge_items)
    ]
    return {
        "patient": patient,
        "encounter": encounter,
        "conditions": conditions,
        "coverage": [coverage],
        "charge_items": charge_items,
        "administrations": administrations,
        "medications": medications,
        "orders": orders,
        "practitioner": visit.practitioner_id,
    }


def _charge_item(
    rng: Random,
    index: int,
    patient_id: str,
    encounter_id: str,
    start: datetime,
    administrations: list[Json],
) -> Json:
    if index == 0:
        code, display, _ = weighted_choice(rng, EM_CODES)
        coding = coding_of(codes.CPT, code, display)
    elif index == 1:
        coding = coding_of(
            codes.CPT, "96372", "Therapeutic, prophylactic, or diagnostic injection; SC or IM"
        )
    else:
        spec = DRUGS[rng.choice(sorted(DRUGS))]
        coding = (
            coding_of(codes.HCPCS, spec.hcpcs, spec.text)
            if spec.hcpcs
            else coding_of(codes.CPT, "90471", "Immunization administration")
        )
    item: Json = {
        "resourceType": "ChargeItem",
        "id": new_id(rng),
        "status": "billable",
        "code": {"coding": [coding]},
        "subject": reference_to("Patient", patient_id),
        "context": reference_to("Encounter", encounter_id),
        "occurrenceDateTime": iso_time(start + timedelta(minutes=45)),
        "quantity": {"value": 1},
    }
    if index >= 1 and administrations:
        item["service"] = [reference_to("MedicationAdministration", str(administrations[0]["id"]))]
    return item
