"""96372 per separate injection with the payer's repeat convention, then the drug lines.

BIL001, BIL012. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from injection_cds.core import codes
from injection_cds.core.billing.classify import (
    date_of_service,
    diagnoses_of,
    is_inpatient,
    profile_of,
    separate_injections,
)
from injection_cds.core.billing.drug_lines import drug_line
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, VisitFacts


def injection_lines(
    injections: list[Administration], visit: VisitFacts, ctx: RuleContext
) -> list[ChargeLine]:
    """BIL001: 96372 per separate injection (repeat convention), then each drug's line.

    None on an inpatient stay: the administration and the drug are part of the inpatient
    payment (BIL005 says so), and a line here would mislead the coder.
    """
    administrations = injections
    if not administrations or is_inpatient(visit, ctx):
        return []
    convention = profile_of(visit, ctx).repeat_convention
    admin_lines: list[ChargeLine] = []
    by_date: dict[str, list[list[Administration]]] = {}
    for group in separate_injections(administrations):
        by_date.setdefault(date_of_service(group[0]), []).append(group)
    for groups in by_date.values():
        admin_lines.extend(_repeat_lines(groups, visit, convention))
    drug_lines = [drug_line(a, visit, ctx) for a in administrations]
    return admin_lines + drug_lines


def _repeat_lines(
    groups: list[list[Administration]], visit: VisitFacts, convention: str
) -> list[ChargeLine]:
    def diagnoses(group: Iterable[Administration]) -> tuple[str, ...]:
        found: list[str] = []
        for administration in group:
            found.extend(diagnoses_of(administration, visit))
        return tuple(dict.fromkeys(found))

    description = "Therapeutic, prophylactic or diagnostic injection; SC or IM"
    if convention == codes.REPEAT_UNITS:
        every = [a for group in groups for a in group]
        return [
            ChargeLine(
                code=codes.CPT_INJECTION_SC_IM,
                system=codes.CPT,
                units=len(groups),
                description=description,
                diagnoses=diagnoses(every),
                services=tuple(a.reference for a in every),
            )
        ]
    lines = []
    for index, group in enumerate(groups):
        lines.append(
            ChargeLine(
                code=codes.CPT_INJECTION_SC_IM,
                system=codes.CPT,
                units=1,
                description=description,
                modifiers=(convention,) if index > 0 else (),
                diagnoses=diagnoses(group),
                services=tuple(a.reference for a in group),
            )
        )
    return lines
