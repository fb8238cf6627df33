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

from injection_cds.devtools.synthetic.bulk import (
    BULK_TYPES,
    iter_bulk_encounters,
    write_bulk_ndjson,
)
from injection_cds.devtools.synthetic.constants import (
    FHIR_BASE,
    GAPS,
    HOOK_CHARTING,
    HOOK_DISCHARGE,
    HOOK_ORDER_SIGN,
    SERVICE_CHARTING,
    SERVICE_DISCHARGE,
    SERVICE_HOOKS,
    SERVICE_ORDER_SIGN,
    Json,
)
from injection_cds.devtools.synthetic.drugs import DRUGS, PROBLEMS, DrugSpec, Problem
from injection_cds.devtools.synthetic.encounters import generate_encounter
from injection_cds.devtools.synthetic.requests import hook_request, request_resources
from injection_cds.devtools.synthetic.resources import EncounterResources, new_id

__all__ = [
    "BULK_TYPES",
    "DRUGS",
    "DrugSpec",
    "EncounterResources",
    "FHIR_BASE",
    "GAPS",
    "HOOK_CHARTING",
    "HOOK_DISCHARGE",
    "HOOK_ORDER_SIGN",
    "Json",
    "PROBLEMS",
    "Problem",
    "SERVICE_CHARTING",
    "SERVICE_DISCHARGE",
    "SERVICE_HOOKS",
    "SERVICE_ORDER_SIGN",
    "generate_encounter",
    "hook_request",
    "iter_bulk_encounters",
    "new_id",
    "request_resources",
    "write_bulk_ndjson",
]
