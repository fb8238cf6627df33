"""Lenient reading (``fhir.strict = false``, the default) of resources that are not quite R4.

An element no rule reads may be invalid: it is dropped from the copy the pipeline reads. One
object where R4 wants an array is read as a one-item array. Anything else in an element the
rules read is refused (422) as in strict mode; a copy read leniently is never remembered as
valid, and the note names elements, never values.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from injection_cds.fhir import validation as fhir

ORDER = {
    "resourceType": "MedicationRequest",
    "id": "request-123",
    "status": "draft",
    "intent": "order",
    "subject": {"reference": "Patient/p1"},
    "category": {"coding": [{"code": "community"}]},
    "reasonCode": {"coding": [{"system": "http://snomed.info/sct", "code": "233604007"}]},
    "note": "SECRET-free text where R4 wants Annotations",
}


@pytest.fixture(autouse=True)
def _lenient() -> Iterator[None]:
    fhir.configure_strict(False)
    fhir.clear_validation_cache()
    yield
    fhir.clear_validation_cache()


def test_unread_invalid_elements_are_dropped_and_single_objects_read_as_arrays() -> None:
    with fhir.leniency_notes() as notes:
        (read,) = fhir.validate_resources(ORDER, "context.draftOrders")
    assert read is not ORDER and "note" not in read
    assert read["category"] == [ORDER["category"]]
    assert read["reasonCode"] == [ORDER["reasonCode"]]
    assert ORDER["category"] == {"coding": [{"code": "community"}]}  # the original untouched
    (note,) = notes
    assert note.where == "context.draftOrders"
    assert note.reference == "MedicationRequest/request-123"
    assert note.elements == ("note",)
    assert set(note.wrapped) == {"category", "reasonCode"}
    assert "SECRET" not in repr(note)
    assert fhir.validation_cache_info()["entries"] == 0  # never remembered as valid


def test_an_invalid_element_the_rules_read_is_still_refused() -> None:
    bad = dict(ORDER, status={"not": "a code"})
    with pytest.raises(fhir.InvalidResource) as caught:
        fhir.validate_resource(bad, "context.draftOrders")
    assert any("MedicationRequest.status" in i.location for i in caught.value.issues)


def test_a_type_the_rules_do_not_list_is_read_strictly() -> None:
    with pytest.raises(fhir.InvalidResource):
        fhir.validate_resource({"resourceType": "Observation", "status": "final", "x": 1})


def test_strict_mode_for_a_block_refuses_what_lenient_mode_reads() -> None:
    with fhir.leniency_notes(strict=True), pytest.raises(fhir.InvalidResource):
        fhir.validate_resource(ORDER, "context.draftOrders")
    with fhir.leniency_notes() as notes:
        fhir.validate_resource(ORDER, "context.draftOrders")
    assert notes


def test_the_process_default_can_be_strict() -> None:
    fhir.configure_strict(True)
    try:
        with pytest.raises(fhir.InvalidResource):
            fhir.validate_resource(ORDER)
        with fhir.leniency_notes(strict=False):
            assert fhir.validate_resource(ORDER)["category"] == [ORDER["category"]]
    finally:
        fhir.configure_strict(False)
