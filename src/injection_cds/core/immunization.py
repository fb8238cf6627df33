"""Who paid for a vaccine dose: the administration's extension, else its Immunization. No I/O.

EHRs say it in two ways (docs/vaccines.md):

- on the MedicationAdministration, the extension ``codes.VACCINE_FUNDING_EXTENSION``
  (valueCoding or valueCodeableConcept) with a funding source or VFC eligibility code;
- on the Immunization recorded for the same dose (same CVX or NDC), ``fundingSource``
  (``public`` / ``private``; CDC VXC50-VXC52 / PHC70) or ``programEligibility`` (HL7 v2
  table 0064 V02-V05: VFC-eligible, so the dose comes from VFC stock).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from injection_cds.core import codes

Json = Mapping[str, Any]


def _codes_of(value: Any) -> set[str]:
    """Codes of a Coding or CodeableConcept (or a list of CodeableConcepts)."""
    if isinstance(value, list):
        found: set[str] = set()
        for item in value:
            found |= _codes_of(item)
        return found
    if not isinstance(value, Mapping):
        return set()
    if isinstance(value.get("code"), str):
        return {value["code"]}
    return {
        c["code"] for c in value.get("coding") or () if isinstance(c, Mapping) and c.get("code")
    }


def funding_from_codes(funding: set[str], eligibility: Iterable[str] = ()) -> str | None:
    """State-supplied, private, or None when nothing says."""
    if funding & codes.PRIVATE_FUNDING_CODES:
        return codes.FUNDING_PRIVATE
    eligible = set(eligibility) & codes.VFC_ELIGIBILITY_CODES
    if funding & codes.STATE_SUPPLIED_FUNDING_CODES or eligible:
        return codes.FUNDING_STATE_SUPPLIED
    return None


def _drug_codes(concept: Any) -> set[str]:
    """CVX (without leading zeros) and NDC (digits) of a CodeableConcept, comparable."""
    found: set[str] = set()
    if not isinstance(concept, Mapping):
        return found
    for coding in concept.get("coding") or ():
        if not isinstance(coding, Mapping) or not isinstance(coding.get("code"), str):
            continue
        if coding.get("system") == codes.CVX:
            found.add("cvx:" + coding["code"].lstrip("0"))
        elif coding.get("system") == codes.NDC:
            found.add("ndc:" + "".join(ch for ch in coding["code"] if ch.isdigit()))
    return found


def vaccine_funding_of(
    administration: Json, medication_code: Any, immunizations: Iterable[Json]
) -> str | None:
    """The funding of one administered dose (codes.FUNDING_*), or None when not charted."""
    for extension in administration.get("extension") or ():
        if isinstance(extension, Mapping) and extension.get("url") == (
            codes.VACCINE_FUNDING_EXTENSION
        ):
            value = extension.get("valueCodeableConcept") or extension.get("valueCoding")
            found = _codes_of(value)
            return funding_from_codes(found, found)
    mine = _drug_codes(medication_code)
    if not mine:
        return None
    for immunization in immunizations:
        if mine & _drug_codes(immunization.get("vaccineCode")):
            return funding_from_codes(
                _codes_of(immunization.get("fundingSource")),
                _codes_of(immunization.get("programEligibility")),
            )
    return None
