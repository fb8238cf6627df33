"""The generator's constants: hooks and services, gaps, code systems, the epoch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Final

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

CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
SNOMED_ROUTE_DISPLAY = {"78421000": "Intramuscular route", "34206005": "Subcutaneous route"}
SITE_DISPLAY = {
    "LD": "Left Deltoid",
    "RD": "Right Deltoid",
    "LG": "Left Gluteus Medius",
    "RG": "Right Gluteus Medius",
    "LVL": "Left Vastus Lateralis",
    "RVL": "Right Vastus Lateralis",
    "LA": "Left Arm",
    "RA": "Right Arm",
}
UCUM_UNIT_TEXT = {"mg": "mg", "g": "g", "ug": "mcg", "mL": "mL", "[iU]": "units"}
TEXT_ROUTES: Final = {
    "IM": ("IM", "intramuscular"),
    "SC": ("subq", "SQ"),
    "IVPUSH": ("IV push", "IV"),
}
FLUSH_BYTES: Final = 1 << 20
EPOCH = datetime(2025, 1, 6, tzinfo=timezone(timedelta(hours=-5)))
