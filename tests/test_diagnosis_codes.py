"""ICD-10-CM codes are read from the standard system and from local ICD-10 systems."""

import pytest

from injection_cds.core import codes
from injection_cds.core.facts import Coding, Concept

MIMIC_ICD10 = "http://mimic.mit.edu/fhir/mimic/CodeSystem/mimic-diagnosis-icd10"
MIMIC_ICD9 = "http://mimic.mit.edu/fhir/mimic/CodeSystem/mimic-diagnosis-icd9"


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        (codes.ICD10CM, "D51.0", ("D51.0",)),
        (MIMIC_ICD10, "E119", ("E11.9",)),
        (MIMIC_ICD10, "Z8546", ("Z85.46",)),
        (MIMIC_ICD10, "I10", ("I10",)),
        (MIMIC_ICD9, "412", ()),  # ICD-9 is not ICD-10-CM
        (MIMIC_ICD9, "E8781", ()),  # an ICD-9 E-code, though it has an ICD-10 look
        ("http://example.org/icd-10-pcs", "0BH17EZ", ()),  # procedure codes are not diagnoses
        (codes.SNOMED, "234347009", ()),
    ],
)
def test_icd10cm_codes(system: str, code: str, expected: tuple[str, ...]) -> None:
    assert Concept((Coding(system, code),)).icd10cm_codes() == expected
