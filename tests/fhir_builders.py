"""The FHIR R4 vocabulary and resource builders every fixture factory shares.

Code systems, codings and quantities as EHRs send them, a realistic patient, encounter,
condition, coverage, Medication, MedicationAdministration and MedicationRequest, and whole
CDS Hooks requests. tests/fixture_factory.py (per-rule and golden requests),
tests/coder_fixture_factory.py and tests/coder_case_factory.py (the coder cases) build their
fixtures from these, so that a change to one shape is made once. ``claim_line`` is the
layout of an expected claim line in fixtures/coder.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

Json = dict[str, Any]

ROOT = Path(__file__).resolve().parents[1]
FHIR_BASE = "https://ehr.example.org/fhir"
_NAMESPACE = uuid.UUID("0b8f1e52-4a57-4c5e-8d2b-6a3f0c9e7d11")

NDC = "http://hl7.org/fhir/sid/ndc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
V3_ROUTE = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
V2_SITE = "http://terminology.hl7.org/CodeSystem/v2-0163"
UCUM = "http://unitsofmeasure.org"
TYPOLOGY = "urn:oid:2.16.840.1.113883.3.221.5"
V3_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"

# Coverage.type (Source of Payment Typology) by payer class.
PAYER_TYPOLOGY = {
    "medicare": ("1", "MEDICARE"),
    "medicaid": ("2", "MEDICAID"),
    "commercial": ("5", "PRIVATE HEALTH INSURANCE"),
}
DAY = "2026-11-24"

CHARTING = "org.injectioncds.medicationadministration-sign"
DISCHARGE = "encounter-discharge"
ORDER_SIGN = "order-sign"

PATIENT_ID = "pat-1001"
ENCOUNTER_ID = "enc-1001"
USER = "Practitioner/md-7"


def at(hhmm: str) -> str:
    """A time of the day the fixtures happen on, in the clinic's zone."""
    return f"{DAY}T{hhmm}:00-05:00"


# --- codes as EHRs send them ---------------------------------------------------------------
def coding(system: str, code: str, display: str) -> Json:
    return {"system": system, "code": code, "display": display}


def route(code: str, display: str) -> Json:
    """A route coded in HL7 v3 RouteOfAdministration."""
    return {"coding": [coding(V3_ROUTE, code, display)]}


ROUTE_IM_SNOMED = {"coding": [coding(SNOMED, "78421000", "Intramuscular route")]}
ROUTE_SC_SNOMED = {"coding": [coding(SNOMED, "34206005", "Subcutaneous route")]}
ROUTE_IM_V3 = route("IM", "Injection, intramuscular")
ROUTE_SQ_V3 = route("SQ", "Injection, subcutaneous")
SITE_RG = {"coding": [coding(V2_SITE, "RG", "Right Gluteus Medius")]}
SITE_LD = {"coding": [coding(V2_SITE, "LD", "Left Deltoid")]}
SITE_ABDOMEN_SNOMED = {"coding": [coding(SNOMED, "818983003", "Abdomen")]}
SITE_LEFT_UPPER_ARM_SNOMED = {"coding": [coding(SNOMED, "368208006", "Left upper arm structure")]}

CEFTRIAXONE = {
    "coding": [
        coding(NDC, "0409-7332-01", "Ceftriaxone for Injection USP, 1 g vial"),
        coding(RXNORM, "1665021", "ceftriaxone 1000 MG Injection"),
    ],
    "text": "Ceftriaxone 1 g injection",
}
ENOXAPARIN = {
    "coding": [coding(RXNORM, "854235", "0.4 ML Enoxaparin sodium 100 MG/ML Prefilled Syringe")],
    "text": "Enoxaparin 40 mg/0.4 mL prefilled syringe",
}
CYANOCOBALAMIN = {
    "coding": [coding(NDC, "0143-9621-25", "Cyanocobalamin Injection USP 1000 mcg/mL, 1 mL vial")],
    "text": "Cyanocobalamin (vitamin B12) 1000 mcg/mL injection",
}
FLU_VACCINE = {
    "coding": [
        coding(CVX, "150", "influenza, injectable, quadrivalent, preservative free"),
    ],
    "text": "Influenza vaccine, quadrivalent, preservative free, 0.5 mL prefilled syringe",
}
FORM_INJECTION_SOLUTION = {"coding": [coding(SNOMED, "385219001", "Injection solution")]}
FORM_POWDER_FOR_INJECTION = {
    "coding": [coding(SNOMED, "385223009", "Powder for injection solution")]
}


def dose(value: float, unit: str) -> Json:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


# --- resources -----------------------------------------------------------------------------
def patient() -> Json:
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": "MRN-1001"}],
        "gender": "female",
        "birthDate": "1968-04-12",
    }


def condition(
    cid: str = "cond-j189",
    icd: tuple[str, str] | None = ("J18.9", "Pneumonia, unspecified organism"),
    snomed: tuple[str, str] | None = ("233604007", "Pneumonia"),
    text: str = "Community-acquired pneumonia",
) -> Json:
    codings = []
    if icd:
        codings.append(coding(ICD10CM, *icd))
    if snomed:
        codings.append(coding(SNOMED, *snomed))
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {
            "coding": [
                coding(
                    "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"
                )
            ]
        },
        "verificationStatus": {
            "coding": [
                coding(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "confirmed",
                    "Confirmed",
                )
            ]
        },
        "category": [
            {
                "coding": [
                    coding(
                        "http://terminology.hl7.org/CodeSystem/condition-category",
                        "encounter-diagnosis",
                        "Encounter Diagnosis",
                    )
                ]
            }
        ],
        "code": {"coding": codings, "text": text},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "encounter": {"reference": f"Encounter/{ENCOUNTER_ID}"},
        "recordedDate": at("09:58"),
    }


def encounter(*, diagnoses: tuple[str, ...] = ("cond-j189",), finished: bool = False) -> Json:
    resource: Json = {
        "resourceType": "Encounter",
        "id": ENCOUNTER_ID,
        "status": "finished" if finished else "in-progress",
        "class": coding(V3_ACT, "AMB", "ambulatory"),
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "participant": [{"individual": {"reference": USER, "display": "Priya Natarajan, MD"}}],
        "period": {"start": at("09:40")},
        "serviceProvider": {"reference": "Organization/clinic-1", "display": "Riverside Clinic"},
    }
    if finished:
        resource["period"]["end"] = at("11:05")
    if diagnoses:
        resource["diagnosis"] = [
            {
                "condition": {"reference": f"Condition/{cid}"},
                "use": {
                    "coding": [
                        coding(
                            "http://terminology.hl7.org/CodeSystem/diagnosis-role",
                            "billing",
                            "Billing",
                        )
                    ]
                },
                "rank": rank,
            }
            for rank, cid in enumerate(diagnoses, start=1)
        ]
    return resource


def coverage(typology: tuple[str, str] = PAYER_TYPOLOGY["commercial"]) -> Json:
    return {
        "resourceType": "Coverage",
        "id": "cov-1001",
        "status": "active",
        "type": {"coding": [coding(TYPOLOGY, *typology)]},
        "beneficiary": {"reference": f"Patient/{PATIENT_ID}"},
        "payor": [{"reference": "Organization/payer-acme", "display": "Acme Health Plan"}],
    }


def medication(
    code: Json | None = CEFTRIAXONE,
    *,
    mid: str = "med1",
    form: Json | None = FORM_POWDER_FOR_INJECTION,
    lot: str | None = "C2408A1",
    expiration: str | None = "2027-06-30",
) -> Json:
    resource: Json = {"resourceType": "Medication", "id": mid}
    if code is not None:
        resource["code"] = copy.deepcopy(code)
    if form is not None:
        resource["form"] = copy.deepcopy(form)
    batch = {}
    if lot:
        batch["lotNumber"] = lot
    if expiration:
        batch["expirationDate"] = expiration
    if batch:
        resource["batch"] = batch
    return resource


def administration(
    aid: str = "ma-ceftriaxone-1",
    *,
    med: Json | None = None,
    route: Json | None = ROUTE_IM_SNOMED,
    site: Json | None = SITE_RG,
    amount: Json | None = None,
    dosage_text: str | None = "Ceftriaxone 1 g IM once",
    effective: str | None = at("10:15"),
    reason_reference: str | None = "cond-j189",
) -> Json:
    """A complete, correctly charted administration: every DOC rule passes on it."""
    med = med if med is not None else medication()
    resource: Json = {
        "resourceType": "MedicationAdministration",
        "id": aid,
        "contained": [med],
        "status": "completed",
        "medicationReference": {"reference": f"#{med['id']}"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "context": {"reference": f"Encounter/{ENCOUNTER_ID}"},
    }
    if effective:
        resource["effectiveDateTime"] = effective
    resource["performer"] = [
        {
            "function": {
                "coding": [
                    coding(
                        "http://terminology.hl7.org/CodeSystem/med-admin-perform-function",
                        "performer",
                        "Performer",
                    )
                ]
            },
            "actor": {"reference": "Practitioner/rn-42", "display": "Dana Reyes, RN"},
        }
    ]
    if reason_reference:
        resource["reasonReference"] = [{"reference": f"Condition/{reason_reference}"}]
    resource["request"] = {"reference": "MedicationRequest/ord-ceftriaxone-1"}
    dosage: Json = {}
    if dosage_text:
        dosage["text"] = dosage_text
    if site is not None:
        dosage["site"] = copy.deepcopy(site)
    if route is not None:
        dosage["route"] = copy.deepcopy(route)
    amount = dose(1, "g") if amount is None else amount
    if amount:
        dosage["dose"] = amount
    resource["dosage"] = dosage
    return resource


def order(
    oid: str = "ord-ceftriaxone-1",
    *,
    drug: Json | None = CEFTRIAXONE,
    route: Json | None = ROUTE_IM_SNOMED,
    amount: Json | None = None,
    reason_reference: str | None = "cond-j189",
    reason_code: Json | None = None,
) -> Json:
    """A draft injection order as an EHR sends it on order-sign."""
    resource: Json = {
        "resourceType": "MedicationRequest",
        "id": oid,
        "status": "draft",
        "intent": "order",
    }
    if drug is not None:
        resource["medicationCodeableConcept"] = copy.deepcopy(drug)
    resource.update(
        {
            "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "encounter": {"reference": f"Encounter/{ENCOUNTER_ID}"},
            "authoredOn": at("10:02"),
            "requester": {"reference": USER, "display": "Priya Natarajan, MD"},
        }
    )
    if reason_code is not None:
        resource["reasonCode"] = [reason_code]
    if reason_reference:
        resource["reasonReference"] = [{"reference": f"Condition/{reason_reference}"}]
    instruction: Json = {"text": "1 g IM once", "timing": {"repeat": {"count": 1}}}
    if route is not None:
        instruction["route"] = copy.deepcopy(route)
    amount = dose(1, "g") if amount is None else amount
    if amount:
        instruction["doseAndRate"] = [
            {
                "type": {
                    "coding": [
                        coding(
                            "http://terminology.hl7.org/CodeSystem/dose-rate-type",
                            "ordered",
                            "Ordered",
                        )
                    ]
                },
                "doseQuantity": amount,
            }
        ]
    resource["dosageInstruction"] = [instruction]
    return resource


# --- requests ------------------------------------------------------------------------------
def _entry(resource: Json, mode: str | None = None) -> Json:
    entry: Json = {
        "fullUrl": f"{FHIR_BASE}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
    }
    if mode:
        entry["search"] = {"mode": mode}
    return entry


def searchset(resources: list[Json], includes: list[Json] | None = None) -> Json:
    bundle: Json = {"resourceType": "Bundle", "type": "searchset", "total": len(resources)}
    entries = [_entry(r, "match") for r in resources]
    entries += [_entry(r, "include") for r in includes or []]
    if entries:
        bundle["entry"] = entries
    return bundle


def collection(resources: list[Json]) -> Json:
    return {"resourceType": "Bundle", "type": "collection", "entry": [_entry(r) for r in resources]}


def request(
    hook: str,
    name: str,
    subjects: list[Json],
    *,
    conditions: list[Json] | None = None,
    enc: Json | None = None,
    cov: Json | None = None,
    includes: list[Json] | None = None,
) -> Json:
    """A whole request for ``hook`` with ``subjects`` (administrations or orders)."""
    conditions = [condition()] if conditions is None else conditions
    context: Json = {"userId": USER, "patientId": PATIENT_ID, "encounterId": ENCOUNTER_ID}
    prefetch: Json = {
        "encounter": enc if enc is not None else encounter(finished=hook == DISCHARGE),
        "conditions": searchset(conditions),
        "coverage": searchset([cov if cov is not None else coverage()]),
        "chargeItems": searchset([]),
        "patient": patient(),
    }
    if hook == CHARTING:
        context["medicationAdministrations"] = collection(subjects + (includes or []))
    elif hook == DISCHARGE:
        prefetch = {
            "encounter": prefetch["encounter"],
            "medicationAdministrations": searchset(subjects, includes),
            **{k: v for k, v in prefetch.items() if k != "encounter"},
        }
    else:
        context["draftOrders"] = collection(subjects)
    return {
        "hookInstance": str(uuid.uuid5(_NAMESPACE, name)),
        "fhirServer": FHIR_BASE,
        "hook": hook,
        "context": context,
        "prefetch": prefetch,
    }


# --- what a coder expects ------------------------------------------------------------------
def claim_line(
    code: str,
    units: int = 1,
    modifiers: tuple[str, ...] = (),
    claim: str = "professional",
    ndc: str | None = None,
) -> Json:
    """One expected claim line of fixtures/coder: a numeric code is CPT, any other HCPCS."""
    entry: Json = {
        "code": code,
        "system": CPT if code[:1].isdigit() else HCPCS,
        "units": units,
        "modifiers": list(modifiers),
        "claim": claim,
    }
    if ndc:
        entry["ndc"] = ndc
    return entry
