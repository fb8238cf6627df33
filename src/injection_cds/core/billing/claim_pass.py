"""The last pass over every family's lines: the setting's claim, JW/JZ, ESAs. No I/O.

Each family (injections, IV, chemotherapy, allergen, vaccines) builds its lines as if for
the physician's office; this pass then applies what a coder applies to every line alike:

* the setting (core/billing/setting.py): an inpatient stay bills nothing separately; in a
  hospital outpatient department every line goes on the hospital's institutional claim
  with its OPPS status indicator, plus G0463 for a clinic visit (BIL025);
* on a drug's own line (``ChargeLine.drug``): the ESA code and modifier for the dialysis
  context (BIL028), then JW/JZ for a single-dose container (BIL023, DOC018) — on the
  hospital's claim only for separately paid drugs (packaged OPPS drugs take neither).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from injection_cds.core import codes
from injection_cds.core.billing.classify import diagnoses_of, status_indicator
from injection_cds.core.billing.esa import EsaDecision, esa_line
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.billing.waste import PendingDiscard, with_discard
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, VisitFacts

_DISCARD_MODIFIERS = frozenset({codes.MODIFIER_DISCARDED, codes.MODIFIER_NOTHING_DISCARDED})


@dataclass
class DrugLineOutcomes:
    """What the pass decided besides the lines (read by BIL023, BIL024, BIL028, DOC018)."""

    discards: list[tuple[Administration, tuple[str, ...]]] = field(default_factory=list)
    pending: list[PendingDiscard] = field(default_factory=list)
    esa: list[EsaDecision] = field(default_factory=list)
    patient_supplied: list[Administration] = field(default_factory=list)


def settle(
    lines: Iterable[ChargeLine],
    visit: VisitFacts,
    ctx: RuleContext,
    setting: str,
    outcomes: DrugLineOutcomes,
    *,
    drug_rules: bool = True,
) -> list[ChargeLine]:
    """A family's lines as the setting bills them, drug lines with ESA and JW/JZ rules."""
    if setting in (codes.SETTING_INPATIENT, codes.SETTING_AMBIGUOUS):
        return []
    institutional = setting == codes.SETTING_HOSPITAL_OUTPATIENT
    by_reference = {a.reference: a for a in visit.administrations}
    settled: list[ChargeLine] = []
    for line in lines:
        administration = by_reference.get(line.services[0]) if line.services else None
        if line.drug and drug_rules and administration is not None:
            settled.extend(drug_pass(line, administration, visit, ctx, institutional, outcomes))
        else:
            settled.append(line)
    if institutional:
        return [institutional_line(line, ctx) for line in settled]
    return settled


def drug_pass(
    line: ChargeLine,
    administration: Administration,
    visit: VisitFacts,
    ctx: RuleContext,
    institutional: bool,
    outcomes: DrugLineOutcomes,
) -> list[ChargeLine]:
    """The drug's line (ESA code and modifier), split or marked for JW/JZ."""
    line, decision = esa_line(line, administration, visit)
    if decision is not None:
        outcomes.esa.append(decision)
    # Packaged OPPS drugs (status N) take no JW/JZ; on a physician claim every drug billed
    # on its own line is separately payable.
    day = administration.effective.date if administration.effective else None
    status = status_indicator(line.code, ctx, day) if institutional else None
    payable = not institutional or status in codes.OPPS_SEPARATELY_PAID
    lines, pending = with_discard(line, administration, visit, ctx, separately_payable=payable)
    if pending is not None:
        outcomes.pending.append(pending)
    added = tuple(m for ln in lines for m in ln.modifiers if m in _DISCARD_MODIFIERS)
    if added:
        outcomes.discards.append((administration, added))
    return lines


def institutional_line(line: ChargeLine, ctx: RuleContext) -> ChargeLine:
    """The line on the hospital's claim, with its OPPS status indicator when known."""
    if "OPPS status" in (line.note or ""):
        return line
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


def clinic_visit(visit: VisitFacts, administrations: Iterable[Administration]) -> list[ChargeLine]:
    """G0463 on the hospital's claim for a clinic visit (an E/M) in a provider-based clinic.

    Not in the emergency department, not in observation (Pub 100-04 ch.4 §290 for
    observation; ED visits have their own codes).
    """
    encounter = visit.encounter
    if encounter is None or not encounter.em_codes:
        return []
    if encounter.class_code in ("EMER", "OBSENC") or encounter.place_of_service == "23":
        return []
    given = list(administrations)
    return [
        ChargeLine(
            code=codes.CPT_HOSPITAL_CLINIC_VISIT,
            system=codes.HCPCS,
            units=1,
            description="Hospital outpatient clinic visit",
            diagnoses=tuple(dict.fromkeys(d for a in given for d in diagnoses_of(a, visit))),
            services=(encounter.reference,),
            claim=codes.CLAIM_INSTITUTIONAL,
            note="the clinic visit on the hospital's claim (OPPS); the physician bills the E/M",
        )
    ]
