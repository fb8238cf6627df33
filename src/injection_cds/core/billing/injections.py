"""96372 per separate injection with the payer's repeat convention, then the drug lines.

BIL001, BIL012; the setting decides the claim (BIL025, BIL026), a patient-supplied drug
has no drug line (BIL024), single-dose drug lines take JW/JZ (BIL023), ESAs their NCD
110.21 code and modifier (BIL028). No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from injection_cds.core import codes
from injection_cds.core.billing.classify import (
    date_of_service,
    diagnoses_of,
    is_inpatient,
    profile_of,
    separate_injections,
    status_indicator,
)
from injection_cds.core.billing.drug_lines import drug_line
from injection_cds.core.billing.esa import EsaDecision, esa_line
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.billing.waste import PendingDiscard, with_discard
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, VisitFacts

# The settings whose injections no one bills as charted (BIL005, BIL026).
_NO_LINES = frozenset(
    {codes.SETTING_INPATIENT, codes.SETTING_AMBIGUOUS, codes.SETTING_OTHER_FACILITY}
)


@dataclass
class DrugLineOutcomes:
    """What the drug-line pass decided besides the lines (read by BIL023, BIL028, DOC018)."""

    discards: list[tuple[Administration, tuple[str, ...]]] = field(default_factory=list)
    pending: list[PendingDiscard] = field(default_factory=list)
    esa: list[EsaDecision] = field(default_factory=list)
    patient_supplied: list[Administration] = field(default_factory=list)


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
    hospital's institutional claim, with the OPPS status indicator (BIL025).
    """
    administrations = injections
    if not administrations or is_inpatient(visit, ctx) or setting in _NO_LINES:
        return []
    outcomes = outcomes if outcomes is not None else DrugLineOutcomes()
    institutional = setting == codes.SETTING_HOSPITAL_OUTPATIENT
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
        drug_lines.extend(_drug_lines(administration, visit, ctx, institutional, outcomes))
    if institutional:
        return [_institutional(line, ctx) for line in admin_lines + drug_lines] + _clinic_visit(
            visit, administrations
        )
    return admin_lines + drug_lines


def _drug_lines(
    administration: Administration,
    visit: VisitFacts,
    ctx: RuleContext,
    institutional: bool,
    outcomes: DrugLineOutcomes,
) -> list[ChargeLine]:
    """The drug's line (ESA code and modifier), split or marked for JW/JZ."""
    line, decision = esa_line(drug_line(administration, visit, ctx), administration, visit)
    if decision is not None:
        outcomes.esa.append(decision)
    # Packaged OPPS drugs (status N) take no JW/JZ; on a physician claim every drug billed
    # on its own line is separately payable.
    status = status_indicator(line.code, ctx) if institutional else None
    payable = not institutional or status in codes.OPPS_SEPARATELY_PAID
    lines, pending = with_discard(line, administration, visit, ctx, separately_payable=payable)
    if pending is not None:
        outcomes.pending.append(pending)
    added = tuple(m for ln in lines for m in ln.modifiers if m in _DISCARD_MODIFIERS)
    if added:
        outcomes.discards.append((administration, added))
    return lines


_DISCARD_MODIFIERS = frozenset({codes.MODIFIER_DISCARDED, codes.MODIFIER_NOTHING_DISCARDED})


def _institutional(line: ChargeLine, ctx: RuleContext) -> ChargeLine:
    """The line on the hospital's claim, with its OPPS status indicator when known."""
    status = status_indicator(line.code, ctx)
    note = f"OPPS status indicator {status}" if status else "OPPS status: load Addendum B"
    if status in codes.OPPS_PACKAGED:
        note += " (packaged: reported, not paid separately)"
    elif status == "Q1":
        note += " (packaged when the claim has a service with status S, T or V)"
    return replace(
        line,
        claim=codes.CLAIM_INSTITUTIONAL,
        note="; ".join(n for n in (line.note, note) if n),
    )


def _clinic_visit(visit: VisitFacts, administrations: list[Administration]) -> list[ChargeLine]:
    """G0463 on the hospital's claim for a clinic visit (an E/M) in a provider-based clinic.

    Not in the emergency department, not in observation.
    """
    encounter = visit.encounter
    if encounter is None or not encounter.em_codes:
        return []
    if encounter.class_code in ("EMER", "OBSENC") or encounter.place_of_service == "23":
        return []
    return [
        ChargeLine(
            code=codes.CPT_HOSPITAL_CLINIC_VISIT,
            system=codes.HCPCS,
            units=1,
            description="Hospital outpatient clinic visit",
            diagnoses=tuple(
                dict.fromkeys(d for a in administrations for d in diagnoses_of(a, visit))
            ),
            services=(encounter.reference,),
            claim=codes.CLAIM_INSTITUTIONAL,
            note="the clinic visit on the hospital's claim (OPPS); the physician bills the E/M",
        )
    ]


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
