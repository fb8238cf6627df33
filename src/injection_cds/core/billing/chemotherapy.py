"""Chemotherapy and other complex drug administration given SC/IM, and what blocks coding.

BIL010 (96401 non-hormonal / 96402 hormonal per SC/IM antineoplastic, with the drug line);
BIL022 (an antineoplastic whose route or times are not charted: what is missing). The IV
push and infusion codes 96409-96417 are chosen with the other IV services in
``intravenous.py`` (one hierarchy for the encounter). No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from injection_cds.core import codes
from injection_cds.core.billing.admin_line import admin_line
from injection_cds.core.billing.classify import complex_kind, given, is_sc_im
from injection_cds.core.billing.drug_lines import drug_line
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.codes import RouteKind
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, VisitFacts


def antineoplastic_lines(visit: VisitFacts, ctx: RuleContext) -> list[ChargeLine]:
    """BIL010: 96401 (non-hormonal) / 96402 (hormonal) per SC/IM antineoplastic, + drug line."""
    lines: list[ChargeLine] = []
    for administration in visit.administrations:
        if not (given(administration) and is_sc_im(administration)):
            continue
        kind = complex_kind(administration, visit, ctx)
        if kind is None:
            continue
        code = (
            codes.CPT_CHEMO_SC_IM_HORMONAL
            if kind == "hormonal"
            else codes.CPT_CHEMO_SC_IM_NONHORMONAL
        )
        lines.append(admin_line(code, "Chemotherapy administration, SC/IM", administration, visit))
        lines.append(drug_line(administration, visit, ctx))
    return lines


@dataclass(frozen=True)
class UncodableChemo:
    """An antineoplastic given, whose administration code cannot be chosen yet."""

    administration: Administration
    missing: tuple[str, ...]  # what the chart must add, in words
    drug_lines: tuple[ChargeLine, ...]  # none where the setting bills nothing (inpatient)


def uncodable_chemotherapy(visit: VisitFacts, ctx: RuleContext) -> list[UncodableChemo]:
    """BIL022: antineoplastics with no route, or IV with neither push nor times charted."""
    found = []
    for administration in visit.administrations:
        if not given(administration) or complex_kind(administration, visit, ctx) is None:
            continue
        kind = administration.effective_route_kind
        timed = administration.duration_minutes is not None
        missing: list[str] = []
        if kind is None or kind == RouteKind.OTHER_INJECTION:
            missing.append("the route (IV push, IV infusion, SC or IM)")
            if not timed:
                missing.append("the start and stop times (effectivePeriod) if it was infused")
        elif kind == RouteKind.IV_UNSPECIFIED and not timed:
            missing.append(
                "push or infusion: the route IVPUSH, or the start and stop times "
                "(effectivePeriod; more than 15 minutes is an infusion)"
            )
        if missing:
            found.append(
                UncodableChemo(
                    administration, tuple(missing), (drug_line(administration, visit, ctx),)
                )
            )
    return found
