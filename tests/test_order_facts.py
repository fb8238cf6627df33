"""Reading a MedicationRequest: as the order being signed and as an administration's order."""

from __future__ import annotations

from typing import Any

from injection_cds.core.extract import visit_facts
from injection_cds.core.extraction.index import ResourceIndex

KETOROLAC = {"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "0409-3795-01"}]}


def _order(instructions: list[Any]) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "order-1",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": KETOROLAC,
        "subject": {"reference": "Patient/p1"},
        "dosageInstruction": instructions,
    }


def _dose(value: float | None) -> dict[str, Any]:
    quantity: dict[str, Any] = {"unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}
    if value is not None:
        quantity["value"] = value
    return {"doseAndRate": [{"doseQuantity": quantity}]}


def _signed_dose(order: dict[str, Any]) -> float | None:
    visit = visit_facts("order-sign", ResourceIndex([order]), orders=[order])
    dose = visit.administrations[0].dose
    return dose.value if dose is not None else None


def _linked_order_dose(order: dict[str, Any]) -> float | None:
    given = {
        "resourceType": "MedicationAdministration",
        "id": "given-1",
        "status": "completed",
        "medicationCodeableConcept": KETOROLAC,
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-01-05T10:00:00Z",
        "request": {"reference": "MedicationRequest/order-1"},
    }
    visit = visit_facts(
        "medication-administration", ResourceIndex([given, order]), administrations=[given]
    )
    dose = visit.administrations[0].order_dose
    return dose.value if dose is not None else None


def test_a_dose_without_a_value_is_passed_over_for_the_next_instruction() -> None:
    order = _order([_dose(None), _dose(30)])
    assert _signed_dose(order) == 30
    assert _linked_order_dose(order) == 30


def test_an_order_with_no_valued_dose_has_none() -> None:
    order = _order([_dose(None), {"text": "as directed"}])
    assert _signed_dose(order) is None
    assert _linked_order_dose(order) is None


def test_a_malformed_dose_entry_is_skipped_not_a_crash() -> None:
    order = _order([{"doseAndRate": ["15 mg", {"doseQuantity": {"value": 15, "unit": "mg"}}]}])
    assert _signed_dose(order) == 15
    assert _linked_order_dose(order) == 15
