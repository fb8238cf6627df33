"""Claim rules around the lines: JW/JZ, patient supply, setting, stops, ESAs.

BIL023-BIL028 and DOC018 (RULES.md "Billing rules").

Each rule reads the billing plan (core/billing/plan.py): the lines were decided there once,
and these rules say why.
"""

from __future__ import annotations

from collections.abc import Iterator

from injection_cds.core import codes
from injection_cds.core.billing import BillingPlan
from injection_cds.core.billing.setting import setting_words
from injection_cds.core.billing.waste import json_amount
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import VisitFacts
from injection_cds.rules.registry import Finding, administration_finding, register


@register("BIL023", family="billing", severity="info")
def discarded_drug_modifiers(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """JW/JZ on a drug line from a single-dose container.

    JZ when nothing was discarded; the administered units on one line and the discarded
    units on a second line with JW when some was; no JW line (and JZ) when the billed
    units, rounded up, already cover the discarded amount. Multi-dose containers take
    neither. Required by Medicare for separately payable Part B drugs; other payers when
    their profile sets ``discarded_drug_modifiers``.

    Why it matters:
        Since 2023-07-01 Medicare requires JZ when nothing is discarded from a single-dose
        container, and JW on the discarded units; claims without them are returned as
        unprocessable from 2023-10-01. Billing the discarded amount inside a rounded-up
        unit again with JW is an overpayment.
    How to fix:
        Chart the discarded amount (docs/charting-billing.md), then bill the lines listed.
    Bad:
        J0885 × 10 for 8,000 units given from a 10,000-unit single-dose vial, 2,000 wasted
    Good:
        J0885-EC × 8; J0885-EC-JW × 2
    Sources:
        - Pub 100-04 ch.17 §40; CMS JW/JZ modifier policy FAQs; MLN MM13056
        - Noridian "Modifier JZ" (discard inside the billed unit: JZ, no JW line)
    """
    for administration, modifiers in plan.discards:
        what = (
            "discarded units on a separate JW line"
            if codes.MODIFIER_DISCARDED in modifiers
            else "JZ: nothing discarded beyond the billed units"
        )
        yield administration_finding(
            "BIL023",
            "info",
            administration,
            "dosage.dose",
            f"single-dose container; {what}.",
            data={"modifiers": list(modifiers)},
        )


@register("DOC018", family="documentation", severity="warning")
def discarded_amount_missing(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """A single-dose container was only partly given and no discarded amount is charted.

    Why it matters:
        The rest of a single-dose container is discarded; Medicare (and payers whose
        profile asks) needs JW with the discarded units, or JZ when nothing was
        discarded, and the record must show the amount discarded. Neither can be chosen
        from this chart.
    How to fix:
        Chart the discarded amount: the ``discarded-amount`` extension on the
        administration, or a separate MedicationAdministration for the waste
        (docs/charting-billing.md).
    Bad:
        ceftriaxone 500 mg IM from a 1 g single-dose vial, nothing about the other 500 mg
    Good:
        "extension": [{"url":
          "https://injection-cds.org/fhir/StructureDefinition/discarded-amount",
          "valueQuantity": {"value": 500, "unit": "mg",
          "system": "http://unitsofmeasure.org", "code": "mg"}}]
    Sources:
        - Pub 100-04 ch.17 §40; CMS JW/JZ FAQs (the discarded amount documented in the record)
    """
    for pending in plan.pending_discards:
        yield administration_finding(
            "DOC018",
            "warning",
            pending.administration,
            "extension",
            f"{json_amount(pending.remainder)} {pending.unit} left in the single-dose "
            "container; chart the discarded amount (JW) or that nothing was discarded (JZ).",
        )


@register("BIL024", family="billing", severity="info")
def patient_supplied_drug(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """The patient brought the drug: bill the administration only, no drug line.

    Why it matters:
        The practice did not buy the drug and cannot bill it; the injection itself is
        billable (96372) when the drug would have been covered.
    How to fix:
        Nothing: the lines already leave the drug out. Chart the supply with the
        ``patient-supplied`` extension or a note (docs/charting-billing.md).
    Bad:
        96372 and J1071 for testosterone the patient brought from the pharmacy
    Good:
        96372 only
    Sources:
        - Pub 100-02 ch.15 §50.4-§50.5 (drugs billed by the supplier who bought them);
          SOURCES-96372.md §9
    """
    for administration in plan.patient_supplied:
        yield administration_finding(
            "BIL024",
            "info",
            administration,
            "extension",
            "supplied by the patient; administration only.",
        )


@register("BIL025", family="billing", severity="info")
def hospital_outpatient_claim(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """Hospital outpatient department: the lines go on the hospital's institutional claim.

    Provider-based clinic (POS 19/22), emergency department (POS 23), observation (class
    OBSENC): the physician reports no 96372; the hospital reports it on its UB-04/837I
    (OPPS status Q1) with the drug lines (status N packaged, K paid separately) and G0463
    for a clinic visit.

    Why it matters:
        96372 on the physician's claim in a hospital outpatient department is denied; the
        hospital's claim is where it is paid.
    How to fix:
        Route the lines (``claim``: institutional) to the hospital's charge capture.
    Bad:
        96372 on the professional claim, POS 22
    Good:
        96372 and the drug line on the hospital's 13x claim; the E/M on the professional claim
    Sources:
        - Pub 100-04 ch.4 §230.2; OPPS Addendum B (96372 SI Q1, G0463); SOURCES-96372.md §6, §9
    """
    if plan.setting != codes.SETTING_HOSPITAL_OUTPATIENT or not plan.injection_lines:
        return
    encounter = visit.encounter
    yield Finding(
        rule="BIL025",
        severity="info",
        resource=encounter.reference if encounter else "Encounter",
        element="Encounter.location",
        message=(
            f"In a {setting_words(plan.setting, visit)}, the injection and drug lines "
            "are for the hospital's institutional claim; the physician does not report 96372."
        ),
    )


@register("BIL026", family="billing", severity="warning")
def ambiguous_setting(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """The setting is ambiguous: a multi-day stay charted as ambulatory (or outpatient).

    An office visit does not span a midnight, and an outpatient stay over two midnights is
    usually an inpatient admission (two-midnight rule). No lines are proposed until the
    chart says where the drug was given.

    Why it matters:
        Office lines on what was a hospital stay bill the wrong claim (Part B professional
        instead of Part A or the hospital's outpatient claim).
    How to fix:
        Chart the place of service: Encounter.location → Location.type with a CMS POS
        code, or the right Encounter.class (IMP, OBSENC, EMER).
    Bad:
        "class": {"code": "AMB"}, "period": {"start": "2026-11-20", "end": "2026-11-24"}
    Good:
        "class": {"code": "IMP"}, or a Location typed POS 11 for a same-day office visit
    Sources:
        - 42 CFR 412.3(d) (two-midnight rule); CMS POS code set; Pub 100-04 ch.4 §230.2
    """
    if plan.setting != codes.SETTING_AMBIGUOUS:
        return
    encounter = visit.encounter
    given = [a for a in visit.administrations if a.completed and a.given_by_injection]
    if encounter is None or not given:
        return
    yield Finding(
        rule="BIL026",
        severity="warning",
        resource=encounter.reference,
        element="Encounter.class",
        message=(
            f"Class {encounter.class_code or '?'} over {encounter.days} day(s): not an office "
            "visit and not clearly outpatient; no lines until the place of service is charted."
        ),
    )


@register("BIL027", family="billing", severity="critical")
def critical_stop_open(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """No bill while a critical stop is open: an expired product or an unidentified drug.

    Why it matters:
        An expired product (DOC005) is a safety event, not a covered drug; an unidentified
        drug (DOC014) cannot be coded. Billing either is wrong until the chart is fixed.
    How to fix:
        Resolve the documentation card named (correct the chart, or report the event);
        the lines come back on the next call.
    Bad:
        96372 and J0696 for ceftriaxone whose batch expired before the day it was given
    Good:
        no lines for that administration until DOC005 is resolved
    Sources:
        - SOURCES-96372.md §4.1; RULES.md DOC005, DOC014
    """
    for stop in plan.stops:
        yield administration_finding(
            "BIL027",
            "critical",
            stop.administration,
            "medication[x]",
            f"not billed — {stop.reason} ({stop.rule}).",
            data={"stop": stop.rule},
        )


@register("BIL028", family="billing", severity="info")
def esa_coding(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """Erythropoiesis-stimulating agent: the code for the dialysis context, EA/EB/EC off it.

    Not on dialysis: J0885 (epoetin alfa) or J0881 (darbepoetin alfa) with EA (anaemia from
    chemotherapy), EB (from radiotherapy) or EC (neither). On dialysis (N18.6, Z99.2): the
    ESRD codes Q4081 / J0882, which only dialysis patients may have.

    Why it matters:
        NCD 110.21 requires the modifier on every non-ESRD ESA line; the ESRD codes on a
        patient not on dialysis (or the reverse) are denied.
    How to fix:
        Link the diagnosis that explains the anaemia (D64.81 for chemotherapy, D63.1 with
        the CKD stage …) so the modifier follows from the chart.
    Bad:
        Q4081 for epoetin alfa given to a patient with CKD stage 4, not on dialysis
    Good:
        J0885-EC
    Sources:
        - NCD 110.21 (erythropoiesis-stimulating agents in cancer and related neoplastic
          conditions); SOURCES-96372.md §9
    """
    for decision in plan.esa:
        parts = [f"{decision.code}"]
        if decision.switched_from:
            parts.append(f"instead of {decision.switched_from}")
        context = "on dialysis" if decision.on_dialysis else "not on dialysis"
        modifier = f", modifier {decision.modifier}" if decision.modifier else ""
        yield administration_finding(
            "BIL028",
            "info",
            decision.administration,
            "medication[x]",
            f"{' '.join(parts)} ({context}{modifier}).",
            data={"code": decision.code, "modifier": decision.modifier or ""},
        )
