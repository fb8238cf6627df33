"""Seeded synthetic FHIR R4 data: whole CDS Hooks requests and Bulk FHIR NDJSON.

Everything is drawn from one ``random.Random(seed)``, so the same seed gives the same bytes.
The resources look like what an EHR sends while injections are charted in a clinic: a
Patient, an Encounter (v3 ActCode class, diagnoses, location, service provider), its
ICD-10-CM Conditions, a Coverage typed in Source of Payment Typology, E/M and drug
ChargeItems, and MedicationAdministrations with a contained Medication (NDC, RxNorm
ingredient, lot, expiry), coded route and site, UCUM dose, performer, order and reason.

A configurable fraction of administrations carries one or two realistic charting gaps (no
site, no lot, a text-only route, an unhyphenated NDC, no reason, no performer, ...) so the
rules have something to say. The NDCs are real-looking package codes in the three 10-digit
hyphenated shapes; they are test data, not a drug reference.
"""

from __future__ import annotations

import gzip as gzip_module
import io
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from random import Random
from typing import Any, Final, TypedDict

import orjson

from injection_cds.core import codes

Json = dict[str, Any]

FHIR_BASE: Final = "https://ehr.example.org/fhir"

HOOK_CHARTING: Final = "org.injectioncds.medicationadministration-sign"
HOOK_DISCHARGE: Final = "encounter-discharge"
HOOK_ORDER_SIGN: Final = "order-sign"
SERVICE_CHARTING: Final = "injection-charting"
SERVICE_DISCHARGE: Final = "injection-discharge"
SERVICE_ORDER_SIGN: Final = "injection-order-sign"
SERVICE_HOOKS: Final[dict[str, str]] = {
    SERVICE_CHARTING: HOOK_CHARTING,
    SERVICE_DISCHARGE: HOOK_DISCHARGE,
    SERVICE_ORDER_SIGN: HOOK_ORDER_SIGN,
}

GAPS: Final = (
    "no_site",
    "no_lot",
    "no_expiration",
    "expired",
    "text_route",
    "malformed_ndc",
    "no_ndc",
    "no_reason",
    "no_performer",
    "no_dose",
    "no_request",
    "no_time",
)
"""The charting gaps the generator can introduce (one or two per affected administration)."""

_CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
_CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
_SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
_SNOMED_ROUTE_DISPLAY = {"78421000": "Intramuscular route", "34206005": "Subcutaneous route"}
_SITE_DISPLAY = {
    "LD": "Left Deltoid",
    "RD": "Right Deltoid",
    "LG": "Left Gluteus Medius",
    "RG": "Right Gluteus Medius",
    "LVL": "Left Vastus Lateralis",
    "RVL": "Right Vastus Lateralis",
    "LA": "Left Arm",
    "RA": "Right Arm",
}
_UCUM_UNIT_TEXT = {"mg": "mg", "g": "g", "ug": "mcg", "mL": "mL", "[iU]": "units"}
_TEXT_ROUTES: Final = {
    "IM": ("IM", "intramuscular"),
    "SC": ("subq", "SQ"),
    "IVPUSH": ("IV push", "IV"),
}
_FLUSH_BYTES: Final = 1 << 20
_EPOCH = datetime(2025, 1, 6, tzinfo=timezone(timedelta(hours=-5)))


@dataclass(frozen=True)
class DrugSpec:
    """One injectable product as charted: what the Medication and dose say."""

    text: str
    ndc: str
    rxnorm_ingredient: tuple[str, str]
    dose_value: float
    dose_unit: str
    routes: tuple[str, ...]
    sites: tuple[str, ...]
    hcpcs: str | None = None
    cvx: tuple[str, str] | None = None
    rxnorm_product: tuple[str, str] | None = None


def _drug(
    text: str,
    ndc: str,
    ingredient: tuple[str, str],
    dose: tuple[float, str],
    routes: tuple[str, ...],
    sites: tuple[str, ...],
    hcpcs: str | None,
    **extra: Any,
) -> DrugSpec:
    return DrugSpec(text, ndc, ingredient, dose[0], dose[1], routes, sites, hcpcs, **extra)


_GLUTE = ("LG", "RG", "LVL", "RVL")
_DELTOID = ("LD", "RD")
_CEFTRIAXONE = ("2193", "ceftriaxone")
_KETOROLAC = ("35827", "ketorolac")
_DEXAMETHASONE = ("3264", "dexamethasone")
_METHYLPRED = ("6902", "methylprednisolone")

DRUGS: Final[dict[str, DrugSpec]] = {
    "ceftriaxone-1g": _drug(
        "ceftriaxone 1 g powder for injection (vial)",
        "0409-7332-01",
        _CEFTRIAXONE,
        (1, "g"),
        ("IM",),
        _GLUTE,
        "J0696",
        rxnorm_product=("1665021", "ceftriaxone 1000 MG Injection"),
    ),
    "ceftriaxone-500mg": _drug(
        "ceftriaxone 500 mg powder for injection (vial)",
        "0409-7337-01",
        _CEFTRIAXONE,
        (500, "mg"),
        ("IM",),
        _GLUTE,
        "J0696",
    ),
    "ketorolac-30mg": _drug(
        "ketorolac tromethamine 30 mg/mL injection",
        "0409-3795-01",
        _KETOROLAC,
        (30, "mg"),
        ("IM", "IM", "IVPUSH"),
        _GLUTE,
        "J1885",
    ),
    "ketorolac-60mg": _drug(
        "ketorolac tromethamine 60 mg/2 mL injection",
        "0409-3796-01",
        _KETOROLAC,
        (60, "mg"),
        ("IM",),
        _GLUTE,
        "J1885",
    ),
    "cyanocobalamin-1000mcg": _drug(
        "cyanocobalamin 1000 mcg/mL injection",
        "0517-0031-25",
        ("11248", "cyanocobalamin"),
        (1000, "ug"),
        ("IM", "IM", "SC"),
        _DELTOID,
        "J3420",
    ),
    "dexamethasone-4mg": _drug(
        "dexamethasone sodium phosphate 4 mg/mL injection",
        "63323-165-01",
        _DEXAMETHASONE,
        (4, "mg"),
        ("IM", "IVPUSH"),
        _GLUTE + _DELTOID,
        "J1100",
    ),
    "dexamethasone-10mg": _drug(
        "dexamethasone sodium phosphate 10 mg/mL injection",
        "63323-506-01",
        _DEXAMETHASONE,
        (10, "mg"),
        ("IM",),
        _GLUTE,
        "J1100",
    ),
    "testosterone-200mg": _drug(
        "testosterone cypionate 200 mg/mL injection",
        "0009-0347-02",
        ("10379", "testosterone"),
        (200, "mg"),
        ("IM",),
        _GLUTE,
        "J1071",
    ),
    "medroxyprogesterone-150mg": _drug(
        "medroxyprogesterone acetate 150 mg/mL injectable suspension",
        "0009-0746-30",
        ("6691", "medroxyprogesterone"),
        (150, "mg"),
        ("IM",),
        _DELTOID + _GLUTE,
        "J1050",
    ),
    "methylprednisolone-40mg": _drug(
        "methylprednisolone acetate 40 mg/mL injectable suspension",
        "0009-3073-01",
        _METHYLPRED,
        (40, "mg"),
        ("IM",),
        _GLUTE,
        "J1030",
    ),
    "methylprednisolone-80mg": _drug(
        "methylprednisolone acetate 80 mg/mL injectable suspension",
        "0009-3475-01",
        _METHYLPRED,
        (80, "mg"),
        ("IM",),
        _GLUTE,
        "J1040",
    ),
    "triamcinolone-40mg": _drug(
        "triamcinolone acetonide 40 mg/mL injectable suspension",
        "0003-0293-05",
        ("10759", "triamcinolone"),
        (40, "mg"),
        ("IM",),
        _GLUTE,
        "J3301",
    ),
    "epinephrine-0.3mg": _drug(
        "epinephrine 0.3 mg auto-injector",
        "49502-500-02",
        ("3992", "epinephrine"),
        (0.3, "mg"),
        ("IM",),
        ("LVL", "RVL"),
        "J0171",
    ),
    "promethazine-25mg": _drug(
        "promethazine hydrochloride 25 mg/mL injection",
        "0641-6082-25",
        ("8745", "promethazine"),
        (25, "mg"),
        ("IM", "IM", "IVPUSH"),
        _GLUTE,
        "J2550",
    ),
    "insulin-regular": _drug(
        "insulin regular human 100 units/mL injection (vial)",
        "0002-8215-01",
        ("253182", "insulin regular, human"),
        (10, "[iU]"),
        ("SC",),
        ("LA", "RA"),
        "J1815",
    ),
    "influenza-vaccine-141": _drug(
        "influenza virus vaccine, 0.5 mL prefilled syringe",
        "49281-421-88",
        ("798297", "influenza virus vaccine"),
        (0.5, "mL"),
        ("IM",),
        _DELTOID,
        None,
        cvx=("141", "Influenza, seasonal, injectable"),
    ),
    "influenza-vaccine-150": _drug(
        "influenza vaccine quadrivalent, preservative free, 0.5 mL prefilled syringe",
        "19515-901-52",
        ("798297", "influenza virus vaccine"),
        (0.5, "mL"),
        ("IM",),
        _DELTOID,
        None,
        cvx=("150", "Influenza, injectable, quadrivalent, preservative free"),
    ),
}


@dataclass(frozen=True)
class Problem:
    """A reason for a visit: its ICD-10-CM code and the drugs given for it."""

    icd10: str
    display: str
    drugs: tuple[str, ...]


PROBLEMS: Final[tuple[Problem, ...]] = (
    Problem("N39.0", "Urinary tract infection, site not specified", ("ceftriaxone-1g",)),
    Problem("J02.0", "Streptococcal pharyngitis", ("ceftriaxone-500mg", "dexamethasone-10mg")),
    Problem("J06.9", "Acute upper respiratory infection, unspecified", ("dexamethasone-10mg",)),
    Problem(
        "D51.0",
        "Vitamin B12 deficiency anemia due to intrinsic factor deficiency",
        ("cyanocobalamin-1000mcg",),
    ),
    Problem(
        "M54.50",
        "Low back pain, unspecified",
        ("ketorolac-60mg", "methylprednisolone-80mg", "triamcinolone-40mg"),
    ),
    Problem(
        "G43.909",
        "Migraine, unspecified, not intractable, without status migrainosus",
        ("ketorolac-30mg", "promethazine-25mg", "dexamethasone-4mg"),
    ),
    Problem("R11.2", "Nausea with vomiting, unspecified", ("promethazine-25mg",)),
    Problem("E29.1", "Testicular hypofunction", ("testosterone-200mg",)),
    Problem(
        "Z30.42",
        "Encounter for surveillance of injectable contraceptive",
        ("medroxyprogesterone-150mg",),
    ),
    Problem(
        "T78.40XA",
        "Allergy, unspecified, initial encounter",
        ("epinephrine-0.3mg", "methylprednisolone-40mg", "dexamethasone-4mg"),
    ),
    Problem("E11.9", "Type 2 diabetes mellitus without complications", ("insulin-regular",)),
    Problem(
        "Z23",
        "Encounter for immunization",
        ("influenza-vaccine-141", "influenza-vaccine-150"),
    ),
    Problem(
        "J45.901", "Unspecified asthma with (acute) exacerbation", ("methylprednisolone-40mg",)
    ),
    Problem("L30.9", "Dermatitis, unspecified", ("triamcinolone-40mg",)),
)
_OTHER_CONDITIONS: Final = (
    ("I10", "Essential (primary) hypertension"),
    ("E78.5", "Hyperlipidemia, unspecified"),
    ("F41.9", "Anxiety disorder, unspecified"),
    ("K21.9", "Gastro-esophageal reflux disease without esophagitis"),
    ("E66.9", "Obesity, unspecified"),
)
_ENCOUNTER_CLASSES: Final = (
    ("AMB", "ambulatory", 80),
    ("EMER", "emergency", 8),
    ("IMP", "inpatient encounter", 6),
    ("VR", "virtual", 6),
)
_LOCATIONS: Final = {
    "AMB": ("Family Medicine Clinic, Room 3", "Internal Medicine Clinic, Injection Room"),
    "EMER": ("Emergency Department, Bay 7", "Emergency Department, Fast Track"),
    "IMP": ("Medical Ward 4 West, Room 412", "Surgical Ward 5 East, Room 518"),
    "VR": ("Telehealth", "Virtual Care"),
}
_PAYERS: Final = (
    ("1", "MEDICARE", "Medicare Part B", 35),
    ("2", "MEDICAID", "State Medicaid", 20),
    ("5", "PRIVATE HEALTH INSURANCE", "Acme Health Plan", 30),
    ("6", "BLUE CROSS/BLUE SHIELD", "Blue Cross Blue Shield", 15),
)
_EM_CODES: Final = (
    ("99211", "Office or other outpatient visit, established patient, minimal", 10),
    ("99212", "Office or other outpatient visit, established patient, straightforward", 20),
    ("99213", "Office or other outpatient visit, established patient, low MDM", 40),
    ("99214", "Office or other outpatient visit, established patient, moderate MDM", 25),
    ("99215", "Office or other outpatient visit, established patient, high MDM", 5),
)
_GIVEN = ("Alex", "Sam", "Jordan", "Maria", "Wei", "Fatima", "John", "Aiko", "Priya", "Luca")
_FAMILY = ("Testpatient", "Synthetic", "Example", "Sample", "Demo", "Fixture", "Mock")
_CLINICIANS = ("Nurse Rivera, RN", "Nurse Okafor, RN", "Dr. Chen", "Dr. Patel", "Nurse Kim, LPN")


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


def _weighted(rng: Random, options: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    return rng.choices(options, weights=[o[-1] for o in options])[0]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _ref(resource_type: str, resource_id: str, display: str | None = None) -> Json:
    reference: Json = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        reference["display"] = display
    return reference


def _coding(system: str, code: str, display: str | None = None) -> Json:
    found: Json = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def _patient(rng: Random) -> Json:
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


def _coverage(rng: Random, patient_id: str) -> Json:
    code, display, payer, _ = _weighted(rng, _PAYERS)
    return {
        "resourceType": "Coverage",
        "id": new_id(rng),
        "status": "active",
        "type": {"coding": [_coding(codes.PAYMENT_TYPOLOGY, code, display)]},
        "subscriberId": f"{rng.randrange(10**9):09d}",
        "beneficiary": _ref("Patient", patient_id),
        "relationship": {"coding": [_coding(_SUBSCRIBER_RELATIONSHIP, "self", "Self")]},
        "period": {"start": "2025-01-01"},
        "payor": [_ref("Organization", f"payer-{code}", payer)],
    }


def _condition(
    rng: Random, code: str, display: str, patient_id: str, encounter_id: str, when: str
) -> Json:
    return {
        "resourceType": "Condition",
        "id": new_id(rng),
        "clinicalStatus": {"coding": [_coding(_CONDITION_CLINICAL, "active")]},
        "verificationStatus": {"coding": [_coding(_CONDITION_VERIFICATION, "confirmed")]},
        "category": [{"coding": [_coding(_CONDITION_CATEGORY, "encounter-diagnosis")]}],
        "code": {"coding": [_coding(codes.ICD10CM, code, display)], "text": display},
        "subject": _ref("Patient", patient_id),
        "encounter": _ref("Encounter", encounter_id),
        "recordedDate": when,
    }


def _malformed(ndc: str) -> str:
    return ndc.replace("-", "")  # an unhyphenated 10-digit NDC is ambiguous (DOC007)


def _medication(rng: Random, spec: DrugSpec, med_id: str, gaps: set[str], given: datetime) -> Json:
    code_codings: list[Json] = []
    if "no_ndc" not in gaps:
        ndc = _malformed(spec.ndc) if "malformed_ndc" in gaps else spec.ndc
        code_codings.append(_coding(codes.NDC, ndc, spec.text))
    if spec.rxnorm_product:
        code_codings.append(_coding(codes.RXNORM, *spec.rxnorm_product))
    if spec.cvx:
        code_codings.append(_coding(codes.CVX, *spec.cvx))
    code: Json = {"text": spec.text}
    if code_codings:
        code = {"coding": code_codings, "text": spec.text}
    medication: Json = {
        "resourceType": "Medication",
        "id": med_id,
        "code": code,
        "ingredient": [
            {
                "itemCodeableConcept": {"coding": [_coding(codes.RXNORM, *spec.rxnorm_ingredient)]},
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


def _route(rng: Random, spec: DrugSpec, gaps: set[str]) -> Json:
    kind = rng.choice(spec.routes)
    if "text_route" in gaps:
        return {"text": rng.choice(_TEXT_ROUTES[kind])}
    if kind == "IVPUSH":
        coding = _coding(codes.V3_ROUTE, "IVPUSH", "Intravenous push")
    else:
        snomed = "78421000" if kind == "IM" else "34206005"
        coding = _coding(codes.SNOMED, snomed, _SNOMED_ROUTE_DISPLAY[snomed])
    return {"coding": [coding]}


def _gaps(rng: Random, gap_rate: float) -> set[str]:
    if rng.random() >= gap_rate:
        return set()
    return set(rng.sample(GAPS, 1 if rng.random() < 0.75 else 2))


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
        gaps = _gaps(rng, self.gap_rate)
        admin_id = new_id(rng)
        med_id = "med1" if self.contained else new_id(rng)
        medication = _medication(rng, spec, med_id, gaps, given)
        route = _route(rng, spec, gaps)
        dosage: Json = {"text": f"{_dose_text(spec)} {route.get('text') or ''}".strip()}
        is_iv = any(c.get("code") == "IVPUSH" for c in route.get("coding", ()))
        if "no_site" not in gaps and not is_iv:
            site = rng.choice(spec.sites)
            dosage["site"] = {"coding": [_coding(codes.V2_BODY_SITE, site, _SITE_DISPLAY[site])]}
        dosage["route"] = route
        if "no_dose" not in gaps:
            dosage["dose"] = {
                "value": spec.dose_value,
                "unit": _UCUM_UNIT_TEXT[spec.dose_unit],
                "system": codes.UCUM,
                "code": spec.dose_unit,
            }
        resource: Json = {"resourceType": "MedicationAdministration", "id": admin_id}
        if self.contained:
            resource["contained"] = [medication]
            resource["medicationReference"] = {"reference": "#med1", "display": spec.text}
        else:
            resource["medicationReference"] = _ref("Medication", med_id, spec.text)
        resource["status"] = "completed"
        resource["subject"] = _ref("Patient", self.patient_id)
        resource["context"] = _ref("Encounter", self.encounter_id)
        if "no_time" not in gaps:
            resource["effectiveDateTime"] = _iso(given)
        if "no_performer" not in gaps:
            resource["performer"] = [
                {"actor": _ref("Practitioner", self.practitioner_id, self.practitioner_name)}
            ]
        if "no_reason" not in gaps:
            resource["reasonReference"] = [_ref("Condition", reason_id)]
        if "no_request" not in gaps:
            resource["request"] = _ref("MedicationRequest", new_id(rng))
        resource["dosage"] = dosage
        return resource, medication

    def order(self, spec: DrugSpec, reason_id: str) -> Json:
        """A draft MedicationRequest for the drug (as ``order-sign`` sends it)."""
        rng = self.rng
        route = _route(rng, spec, set())
        return {
            "resourceType": "MedicationRequest",
            "id": new_id(rng),
            "status": "draft",
            "intent": "order",
            "medicationCodeableConcept": {
                "coding": [_coding(codes.NDC, spec.ndc, spec.text)],
                "text": spec.text,
            },
            "subject": _ref("Patient", self.patient_id),
            "encounter": _ref("Encounter", self.encounter_id),
            "authoredOn": _iso(self.start + timedelta(minutes=rng.randrange(5, 30))),
            "requester": _ref("Practitioner", self.practitioner_id, self.practitioner_name),
            "reasonReference": [_ref("Condition", reason_id)],
            "dosageInstruction": [
                {
                    "text": f"{_dose_text(spec)} once",
                    "route": route,
                    "doseAndRate": [
                        {
                            "doseQuantity": {
                                "value": spec.dose_value,
                                "unit": _UCUM_UNIT_TEXT[spec.dose_unit],
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
    return f"{value} {_UCUM_UNIT_TEXT[spec.dose_unit]}"


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
        patient = _patient(rng)
    patient_id = str(patient["id"])
    if coverage is None:
        coverage = _coverage(rng, patient_id)
    encounter_id = new_id(rng)
    class_code, class_display, _ = _weighted(rng, _ENCOUNTER_CLASSES)
    start = _EPOCH + timedelta(
        days=rng.randrange(0, 330), hours=rng.randrange(0, 10), minutes=rng.randrange(0, 60)
    )
    visit = _Visit(
        rng=rng,
        patient_id=patient_id,
        encounter_id=encounter_id,
        practitioner_id=new_id(rng),
        practitioner_name=rng.choice(_CLINICIANS),
        start=start,
        contained=contained,
        gap_rate=gap_rate,
    )
    problems = rng.sample(PROBLEMS, min(n_conditions, len(PROBLEMS)))
    recorded = _iso(start + timedelta(minutes=5))
    conditions = [
        _condition(rng, p.icd10, p.display, patient_id, encounter_id, recorded) for p in problems
    ]
    for _ in range(n_conditions - len(problems)):
        code, display = rng.choice(_OTHER_CONDITIONS)
        conditions.append(_condition(rng, code, display, patient_id, encounter_id, recorded))
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
    location = rng.choice(_LOCATIONS[class_code])
    encounter: Json = {
        "resourceType": "Encounter",
        "id": encounter_id,
        "status": encounter_status,
        "class": _coding(codes.V3_ACT_CODE, class_code, class_display),
        "subject": _ref("Patient", patient_id),
        "participant": [
            {"individual": _ref("Practitioner", visit.practitioner_id, visit.practitioner_name)}
        ],
        "period": {"start": _iso(start)}
        if encounter_status == "in-progress"
        else {"start": _iso(start), "end": _iso(end)},
        "diagnosis": [
            {
                "condition": _ref("Condition", str(c["id"])),
                "use": {"coding": [_coding(_DIAGNOSIS_ROLE, "billing", "Billing")]},
                "rank": rank,
            }
            for rank, c in enumerate(conditions, start=1)
        ],
        "location": [{"location": _ref("Location", new_id(rng), location)}],
        "serviceProvider": _ref("Organization", "org-1", "Example Community Health Center"),
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
        code, display, _ = _weighted(rng, _EM_CODES)
        coding = _coding(codes.CPT, code, display)
    elif index == 1:
        coding = _coding(
            codes.CPT, "96372", "Therapeutic, prophylactic, or diagnostic injection; SC or IM"
        )
    else:
        spec = DRUGS[rng.choice(sorted(DRUGS))]
        coding = (
            _coding(codes.HCPCS, spec.hcpcs, spec.text)
            if spec.hcpcs
            else _coding(codes.CPT, "90471", "Immunization administration")
        )
    item: Json = {
        "resourceType": "ChargeItem",
        "id": new_id(rng),
        "status": "billable",
        "code": {"coding": [coding]},
        "subject": _ref("Patient", patient_id),
        "context": _ref("Encounter", encounter_id),
        "occurrenceDateTime": _iso(start + timedelta(minutes=45)),
        "quantity": {"value": 1},
    }
    if index >= 1 and administrations:
        item["service"] = [_ref("MedicationAdministration", str(administrations[0]["id"]))]
    return item


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


# --- Bulk FHIR NDJSON ----------------------------------------------------------------------
BULK_TYPES: Final = (
    "Patient",
    "Encounter",
    "Condition",
    "Coverage",
    "ChargeItem",
    "Medication",
    "MedicationAdministration",
)


def iter_bulk_encounters(
    n_administrations: int, seed: int, *, gap_rate: float = 0.2
) -> Iterator[EncounterResources]:
    """Encounters (1-4 administrations each) until ``n_administrations`` are generated.

    About a third of the encounters are a returning patient's (from a bounded pool of
    recent patients), whose Patient and Coverage were yielded before: those encounters come
    with an empty ``coverage`` list, which is how a writer knows not to repeat the Patient.
    """
    rng = Random(seed)
    recent: list[tuple[Json, Json]] = []
    left = n_administrations
    while left > 0:
        count = min(left, rng.choices((1, 2, 3, 4), weights=(55, 25, 12, 8))[0])
        returning = bool(recent) and rng.random() < 0.35
        patient, coverage = rng.choice(recent) if returning else (None, None)
        visit = generate_encounter(
            rng,
            count,
            n_conditions=rng.choice((1, 1, 2, 3)),
            n_charge_items=rng.choice((0, 1, 2, 2)),
            gap_rate=gap_rate,
            contained=False,
            patient=patient,
            coverage=coverage,
        )
        if returning:
            visit["coverage"] = []
        else:
            recent.append((visit["patient"], visit["coverage"][0]))
            if len(recent) > 200:
                recent.pop(rng.randrange(len(recent)))
        left -= count
        yield visit


def write_bulk_ndjson(
    out_dir: str | os.PathLike[str],
    n_administrations: int,
    seed: int,
    gzip: bool = False,
    *,
    gap_rate: float = 0.2,
) -> dict[str, int]:
    """Write Bulk FHIR NDJSON, one file per resource type; return the count per type.

    Streams encounter by encounter (memory stays constant however many administrations).
    Medications are separate resources, referenced as ``Medication/<id>``. Files are named
    ``<Type>.ndjson`` (``.ndjson.gz`` with ``gzip``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".ndjson.gz" if gzip else ".ndjson"
    handles: dict[str, io.BufferedIOBase] = {}
    pending: dict[str, list[bytes]] = {t: [] for t in BULK_TYPES}
    sizes = dict.fromkeys(BULK_TYPES, 0)
    counts = dict.fromkeys(BULK_TYPES, 0)

    def flush(resource_type: str) -> None:
        handles[resource_type].write(b"".join(pending[resource_type]))
        pending[resource_type].clear()
        sizes[resource_type] = 0

    try:
        for resource_type in BULK_TYPES:
            path = out / f"{resource_type}{suffix}"
            handles[resource_type] = (
                gzip_module.GzipFile(path, "wb", compresslevel=5, mtime=0)
                if gzip
                else open(path, "wb")  # noqa: SIM115 - closed in the finally below
            )
        for visit in iter_bulk_encounters(n_administrations, seed, gap_rate=gap_rate):
            groups: list[tuple[str, list[Json]]] = [
                ("Patient", [visit["patient"]] if visit["coverage"] else []),
                ("Encounter", [visit["encounter"]]),
                ("Condition", visit["conditions"]),
                ("Coverage", visit["coverage"]),
                ("ChargeItem", visit["charge_items"]),
                ("Medication", visit["medications"]),
                ("MedicationAdministration", visit["administrations"]),
            ]
            for resource_type, resources in groups:
                for resource in resources:
                    line = orjson.dumps(resource, option=orjson.OPT_APPEND_NEWLINE)
                    pending[resource_type].append(line)
                    sizes[resource_type] += len(line)
                counts[resource_type] += len(resources)
                if sizes[resource_type] > _FLUSH_BYTES:
                    flush(resource_type)
        for resource_type in BULK_TYPES:
            flush(resource_type)
    finally:
        for handle in handles.values():
            handle.close()
    return counts
