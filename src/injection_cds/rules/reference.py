"""Billing rules that read the CMS drug quarter: codes valid on the date of service (BIL015).

Each rule is one small pure function over the visit and the quarter the catalog answers
from (the one covering the date of service, ``DrugCatalog.at``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from injection_cds.core import codes
from injection_cds.core.billing import BillingPlan
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import VisitFacts
from injection_cds.reference.catalog import shipped_replacements
from injection_cds.rules.registry import Finding, register

# Level II drug codes the quarter's files list: J codes, Q drug codes, C9 pass-through drugs.
_DRUG_CODE = re.compile(r"^(J\d{4}|Q[0-9]\d{3}|C9\d{3})$")


def _service_day(visit: VisitFacts) -> date | None:
    for administration in visit.administrations:
        if administration.effective is not None and administration.effective.date:
            return administration.effective.date
    encounter = visit.encounter
    return encounter.start.date if encounter and encounter.start else None


def _charted_codes(visit: VisitFacts) -> Iterator[tuple[str, str, str]]:
    """(code, resource, element) of every Level II drug code on a drug or a ChargeItem."""
    for administration in visit.administrations:
        drug = administration.drug
        if drug is not None and drug.hcpcs and _DRUG_CODE.match(drug.hcpcs.upper()):
            yield drug.hcpcs.upper(), administration.reference, "medication[x]"
    if visit.encounter is not None:
        for coding in visit.encounter.charge_item_codes:
            code = (coding.code or "").upper()
            if coding.system in codes.HCPCS_SYSTEMS and _DRUG_CODE.match(code):
                yield code, visit.encounter.reference, "ChargeItem.code"


@register("BIL015", family="billing", severity="warning")
def code_not_in_quarter(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """A HCPCS drug code on the drug or a ChargeItem is not in the quarter's CMS files.

    Fires for a Level II drug code (J, Q, C9) charted on the drug or on one of the
    encounter's ChargeItems that neither the ASP crosswalk, the payment limit file nor OPPS
    Addendum B of the quarter covering the date of service lists: a deleted code (J1040
    since 2024-04-01) or one not yet valid. The replacement is named when a sourced table
    says (``reference/data/code-replacements.csv``).

    Why it matters:
        A claim line with a code that is not valid on the date of service is rejected; the
        drug is billed under the code in force then.
    How to fix:
        Replace the code with the one in force on the date of service (the card names it
        when known), or load the quarter's CMS files if the code is new.
    Bad:
        "code": {"coding": [{"system": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
          "code": "J1040"}]}
    Good:
        "code": {"coding": [{"system": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
          "code": "J1010"}]}
    Sources:
        - CMS ASP NDC-HCPCS crosswalk and payment limit files, OPPS Addendum B (docs/SOURCES.md)
        - CMS HCPCS quarterly update April 2024: J1020/J1030/J1040 -> J1010 (SOURCES-96372.md §3.4)
    """
    catalog = ctx.catalog.at(_service_day(visit))
    quarter = catalog.quarter
    if quarter is None:
        return
    replacements = shipped_replacements()
    seen: set[tuple[str, str]] = set()
    for code, resource, element in _charted_codes(visit):
        if (code, resource) in seen or quarter.has_code(code):
            continue
        seen.add((code, resource))
        replacement = replacements.get(code)
        instead = (
            f" It was deleted on {replacement.deleted}: bill {replacement.replaced_by} "
            f"({replacement.source})."
            if replacement is not None
            else " Check the code in force on the date of service."
        )
        yield Finding(
            rule="BIL015",
            severity="warning",
            resource=resource,
            element=element,
            message=(
                f"{code} is not in the CMS {quarter.label} drug files (ASP crosswalk, payment "
                f"limits, OPPS Addendum B).{instead}"
            ),
            data={
                "code": code,
                "quarter": quarter.label,
                **({"replacedBy": replacement.replaced_by} if replacement else {}),
            },
        )
