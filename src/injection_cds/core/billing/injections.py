"""96372 per separate injection with the payer's repeat convention, then the drug lines.

BIL001, BIL012; the setting decides the claim (BIL025, BIL026), a patient-supplied drug
has no drug line (BIL024), single-dose drug lines take JW/JZ (BIL023), ESAs their NCD
110.21 code and modifier (BIL028). No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from injection_cds.core import codes
from injection_cds.core.billing.claim_pass import DrugLineOutcomes, clinic_visit, settle
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

# The settings whose injections no one bills as charted (BIL005, BIL026).
_NO_LINES = frozenset(
    {codes.SETTING_INPATIENT, codes.SETTING_AMBIGUOUS, codes.SETTING_OTHER_FACILITY}
)


def injection_lines(
    injections: list[Administration],
    visit: VisitFacts,
    ctx: RuleContext,
    setting: str = codes.SETTING_OFFICE,
    outcomes: DrugLineOutcomes | None = None,
) -> list[ChargeLine]:
    """BIL001: 96372 per separate injection (repeat convention), then each drug's line.

    None on an inpatient stay (the administration and the drug are part of the inpatient
    payment, BIL005), in another facility (the facility bills), or when the setting is
    ambiguous (BIL026). In a hospital outpatient department the same lines go on the
    hospital's institutional claim, with the OPPS status indicator and G0463 for a clinic
    visit (BIL025). A drug the patient brought has no line (BIL024).
    """
    administrations = injections
    if not administrations or is_inpatient(visit, ctx) or setting in _NO_LINES:
        return []
    outcomes = outcomes if outcomes is not None else DrugLineOutcomes()
    convention = profile_of(visit, ctx).repeat_convention
    admin_lines: list[ChargeLine] = []
    by_date: dict[str, list[list[Administration]]] = {}
    for group in separate_injections(administrations):
        by_date.setdefault(date_of_service(group[0]), []).append(group)
    for groups in by_date.values():
        admin_lines.extend(_repeat_lines(groups, visit, convention))
    drug_lines: list[ChargeLine] = []
    for administration in administrations:
        if administration.patient_supplied:
            outcomes.patient_supplied.append(administration)
            continue
        drug_lines.append(drug_line(administration, visit, ctx))
    lines = settle(admin_lines + drug_lines, visit, ctx, setting, outcomes)
    if setting == codes.SETTING_HOSPITAL_OUTPATIENT:
        lines += clinic_visit(visit, administrations)
    return lines


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
