"""Tuberculin skin tests: 86580 per test, no injection code and no drug line. BIL029. No I/O."""

from __future__ import annotations

from injection_cds.core import codes
from injection_cds.core.billing.classify import diagnoses_of, given, is_tuberculin_test
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.facts import VisitFacts


def skin_test_lines(visit: VisitFacts) -> list[ChargeLine]:
    """BIL029: one 86580 per tuberculin skin test placed; the PPD is part of the test."""
    return [
        ChargeLine(
            code=codes.CPT_TUBERCULIN_SKIN_TEST,
            system=codes.CPT,
            units=1,
            description="Tuberculin skin test, intradermal (the PPD included)",
            diagnoses=diagnoses_of(administration, visit),
            services=(administration.reference,),
        )
        for administration in visit.administrations
        if given(administration) and is_tuberculin_test(administration.drug)
    ]
