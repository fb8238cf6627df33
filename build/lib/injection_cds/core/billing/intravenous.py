"""IV push, IV infusion and intra-arterial codes instead of 96372, with the drug lines.

BIL002. No I/O.
"""

from __future__ import annotations

from injection_cds.core import codes
from injection_cds.core.billing.admin_line import admin_line, named_entry, with_note
from injection_cds.core.billing.classify import (
    entry_for,
    excluded_from_drug_administration,
    given,
    is_facility,
    is_iv_or_ia,
)
from injection_cds.core.billing.drug_lines import drug_line
from injection_cds.core.billing.lines import ChargeLine
from injection_cds.core.codes import RouteKind
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import VisitFacts


def iv_lines(visit: VisitFacts, ctx: RuleContext) -> list[ChargeLine]:
    """BIL002: one initial IV service, add-on pushes, intra-arterial; then the drug lines.

    Infusion 96365 is taken as the initial service before push 96374; +96375 per new drug
    pushed, +96376 for a repeat push of the same drug (facility claims only), 96373 per
    intra-arterial injection; then the drug lines. IV route unspecified: no code, a note.
    """
    administrations = [
        a
        for a in visit.administrations
        if given(a) and is_iv_or_ia(a) and not excluded_from_drug_administration(a, visit, ctx)
    ]
    if not administrations:
        return []
    facility = is_facility(visit, ctx)
    lines: list[ChargeLine] = []
    infusions = [a for a in administrations if a.effective_route_kind == RouteKind.IV_INFUSION]
    pushes = [a for a in administrations if a.effective_route_kind == RouteKind.IV_PUSH]
    initial_taken = False
    if infusions:
        first = infusions[0]
        lines.append(
            admin_line(codes.CPT_IV_INFUSION_INITIAL, "IV infusion, initial", first, visit)
        )
        initial_taken = True
        if len(infusions) > 1:
            lines[-1] = with_note(
                lines[-1],
                "additional infusions: +96366/+96367/+96368 by time and drug (check times)",
            )
    pushed: set[str] = set()
    for push in pushes:
        name = (entry_for(push.drug, ctx.catalog) or named_entry(push)).name.lower()
        if not initial_taken:
            lines.append(admin_line(codes.CPT_IV_PUSH_INITIAL, "IV push, initial", push, visit))
            initial_taken = True
        elif name not in pushed:
            lines.append(
                admin_line(
                    codes.CPT_IV_PUSH_ADDITIONAL_NEW_DRUG,
                    "IV push, each additional new drug",
                    push,
                    visit,
                )
            )
        elif facility:
            lines.append(
                admin_line(
                    codes.CPT_IV_PUSH_ADDITIONAL_SAME_DRUG,
                    "IV push, additional, same drug (facility)",
                    push,
                    visit,
                )
            )
        pushed.add(name)
    for arterial in administrations:
        if arterial.effective_route_kind == RouteKind.INTRA_ARTERIAL:
            lines.append(
                admin_line(
                    codes.CPT_INJECTION_INTRA_ARTERIAL, "Intra-arterial injection", arterial, visit
                )
            )
    lines.extend(drug_line(a, visit, ctx) for a in administrations)
    return lines
