"""Billing rules BIL001-BIL014 (RULES.md "Billing rules").

Each rule is one small pure function over the visit; the charge lines come from
``injection_cds.core.billing``. Findings that carry lines put them in ``data["lines"]`` in the
RULES.md shape, so the card builder and the batch audit read the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator

from injection_cds.core import codes
from injection_cds.core.billing import BillingPlan, ChargeLine, classify, json_number, lines_json
from injection_cds.core.billing.lines import units_by_code
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, EncounterFacts, VisitFacts
from injection_cds.reference.catalog import is_vaccine
from injection_cds.rules.registry import (
    Finding,
    Severity,
    administration_finding,
    charted,
    label,
    register,
)

_BILLING_ELEMENT = "MedicationAdministration"


def _line_text(line: ChargeLine) -> str:
    parts = [line.code]
    if line.modifiers:
        parts.append("-" + "-".join(line.modifiers))
    units = f" × {line.units}" if line.units is not None else " × ? units"
    text = "".join(parts) + units
    if line.ndc:
        text += f", NDC {codes.NDC_QUALIFIER} {line.ndc}"
        if line.ndc_unit and line.ndc_quantity is not None:
            text += f" {line.ndc_unit}{json_number(line.ndc_quantity)}"
            text += "\\*" if line.ndc_note else ""  # the caveat follows the list, once
    if line.note:
        text += f" ({line.note})"
    if line.payment:
        text += f" [{line.payment}]"
    return text


def _reference_sentence(lines: list[ChargeLine]) -> str:
    """Which CMS quarter the drug codes, units and figures were read in."""
    used = [r for r in dict.fromkeys(line.reference for line in lines) if r]
    return f" Drug data: {', '.join(used)}." if used else ""


def lines_finding(rule: str, severity: Severity, lines: list[ChargeLine], message: str) -> Finding:
    """A finding that proposes claim lines (``data["lines"]``, the card's lines)."""
    services = [s for line in lines for s in line.services]
    return Finding(
        rule=rule,
        severity=severity,
        resource=services[0] if services else "Encounter",
        element=_BILLING_ELEMENT,
        message=message
        + " "
        + "; ".join(_line_text(line) for line in lines)
        + "."
        + "".join(f" \\*{note}." for note in dict.fromkeys(ln.ndc_note for ln in lines) if note)
        + _reference_sentence(lines),
        data={"lines": lines_json(lines), "resources": list(dict.fromkeys(services))},
    )


def family_lines(
    rule: str, lines: tuple[ChargeLine, ...], lead: str, visit: VisitFacts, ctx: RuleContext
) -> Iterator[Finding]:
    """A coding family's info finding with its plan lines; none on a telehealth visit."""
    if lines and not classify.is_telehealth(visit, ctx):
        yield lines_finding(rule, "info", list(lines), lead)


@register("BIL001", family="billing", severity="info")
def billing_summary(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """What to bill for the SC/IM injections of the visit: 96372, drug lines, NDC.

    96372 once per separate injection (drugs mixed in one syringe are one); the second and
    later lines carry the payer's repeat modifier (59 by default). Each drug's HCPCS line
    has units = ceil(dose ÷ descriptor amount) ("up to X" codes: one unit for a dose ≤ X),
    the NDC in 11-digit 5-4-2 form with the N4 qualifier, its unit and quantity, and the
    linked ICD-10-CM codes. The card offers one FHIR ChargeItem per line.

    Why it matters:
        96372 is a stand-alone code reported per injection, not an add-on and not once per
        encounter; the drug is billed on its own HCPCS line with the right units and NDC.
    How to fix:
        Review the lines, then accept the suggestion to create the ChargeItems.
    Bad:
        96372 × 1 for two IM injections of different drugs at two sites
    Good:
        96372 × 1; 96372-59 × 1; J0696 × 4 (ceftriaxone 1 g); J1885 × 4 (ketorolac 60 mg)
    Sources:
        - CPT Assistant May 2010 via AAPC; BCBS AL injectable drugs (SOURCES-96372.md §1.3)
        - HCPCS units, "per" and "up to" descriptors (SOURCES-96372.md §3.4)
        - NDC 11-digit form, N4 and unit qualifiers (SOURCES-96372.md §5)
    """
    if classify.is_telehealth(visit, ctx):
        return
    lines = list(plan.injection_lines)
    if not lines:
        return
    claim = "the hospital's (facility) claim" if classify.is_facility(visit, ctx) else "the claim"
    yield lines_finding("BIL001", "info", lines, f"Bill on {claim}:")


@register("BIL002", family="billing", severity="info")
def iv_or_intra_arterial(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """Drugs given IV (push or infusion, chemotherapy included), by SC infusion or intra-arterially.

    One initial service per encounter, chosen by the CPT hierarchy (chemotherapy >
    therapeutic > hydration; infusion > push), whatever the order given; every other
    service takes its add-on code. Push or infusion is read from ``effectivePeriod``: 15
    minutes or less is a push, more is an infusion (the route decides when no times are
    charted). Chemotherapy: 96413 (+96415 per added hour, +96417 per sequential drug),
    96409 (+96411 per added drug pushed). Therapeutic: 96365 (+96366 per added hour,
    +96367 sequential, +96368 concurrent), 96374 (+96375 new drug, +96376 same drug,
    facility only). Hydration: 96360 (31 minutes or more; +96361 per added hour, or
    after another initial service). SC infusion (route SQINFUS): 96369 (+96370 per added
    hour, +96371 per further pump set-up). Intra-arterial: 96373. Then the drug lines.

    Why it matters:
        96372 is SC/IM only; IV and infusion services are paid by hierarchy and time, and
        only one initial code is paid per encounter. A physician reports as initial the
        primary reason for the encounter; hospitals follow the hierarchy.
    How to fix:
        Bill the codes listed; chart the IV route as push (IVPUSH) or infusion, with start
        and stop times for infusions.
    Bad:
        ondansetron IV push then a 90-minute infliximab infusion billed 96374 + 96365
    Good:
        96413 + 96375 (infliximab routed to chemotherapy administration; ondansetron push)
    Sources:
        - CPT 96360-96379 and 96401-96417 guidelines (docs/SOURCES.md §12.1, §12.4)
        - Pub 100-04 ch.12 §30.5; ch.4 §230.2 (docs/SOURCES.md §12.2)
        - CMS RAC topic 0071 (SOURCES-96372.md §2.4)
    """
    if classify.is_telehealth(visit, ctx):
        return
    unspecified = [
        a
        for a in visit.administrations
        if classify.given(a)
        and a.effective_route_kind == codes.RouteKind.IV_UNSPECIFIED
        and a.duration_minutes is None
        and not classify.excluded_from_drug_administration(a, visit, ctx)
    ]
    lines = list(plan.iv_lines)
    if not lines and not unspecified:
        return
    message = "Not 96372:"
    if unspecified:
        names = ", ".join(label(a) for a in unspecified)
        message = (
            f"{names}: route charted only as IV and no times — 96374 if pushed, 96365 if "
            "infused; chart which. " + message
        )
    yield lines_finding("BIL002", "info", lines, message)


@register("BIL003", family="billing", severity="warning")
def vaccine_administration(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """A vaccine or toxoid: its administration code and its product code, never 96372.

    The product code (CPT) is on its own line beside the administration code: charted on
    the drug, or from its CVX code (shipped CDC CVX-CPT table), or from its NDC (ASP
    crosswalk). Administration: Medicare G0008 flu, G0009 pneumococcal, G0010 hepatitis
    B, 90471 for a vaccine given for an injury or exposure (others are Part D: BIL018);
    90480 COVID-19 (any payer); age ≤ 18 with counselling 90460 per vaccine + 90461 per
    further component; otherwise 90471/+90472 (injection), 90473/+90474 (oral/nasal).

    Why it matters:
        Vaccines never use 96372; Medicare denies 90471 for a vaccine with a G-code, and
        an administration line without its product line is denied.
    How to fix:
        Bill the administration code listed with the vaccine product code.
    Bad:
        influenza vaccine billed as 96372
    Good:
        influenza vaccine for a Medicare patient billed as G0008 + the product code
    Sources:
        - Palmetto GBA preventive services FAQ; CPT 90460-90474, 90480 (SOURCES-96372.md
          §2.2, §3.1)
        - CDC CPT-CVX mapping; Pub 100-02 ch.15 §50.4.4.2 (docs/SOURCES.md §12.9-12.12)
    """
    if classify.is_telehealth(visit, ctx):
        return
    lines = list(plan.vaccine_lines)
    if not lines:
        return
    yield lines_finding("BIL003", "warning", lines, "Vaccine administration, not 96372:")


def _drug_administration_codes(plan: BillingPlan) -> list[str]:
    found = [
        line.code
        for line in list(plan.injection_lines)
        + list(plan.iv_lines)
        + list(plan.antineoplastic_lines)
        if line.system == codes.CPT
    ]
    return list(dict.fromkeys(found))


@register("BIL004", family="billing", severity="warning")
def em_same_encounter(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """An E/M on the same encounter as the injection: 99211 not payable, others need 25.

    Critical for 99211: Medicare does not pay 99211 with an injection code, with or without
    modifier 25. Warning for 99202-99215: modifier 25 on the E/M line (never on 96372) and
    a significant, separately identifiable, documented service. A vaccine given at a visit
    with no drug administration code: with 90460, 90471 or 90473 every E/M takes 25 when it
    is separately identifiable (NCCI pairs them); with Medicare's G0008-G0010 only 99211 is
    bundled, and 99202-99215 need no 25.

    Why it matters:
        A nurse visit (99211) billed with 96372 is denied; an E/M without 25 is bundled.
    How to fix:
        99211: bill the injection and the drug only. 99202-99215: append 25 to the E/M when
        the note documents a separate evaluation.
    Bad:
        ChargeItem 99211 and 96372 on the same encounter
    Good:
        99213-25 with a documented separate evaluation; 96372; the drug line
    Sources:
        - CMS CR 3631; Pub 100-04 ch.12 §30.6.7 (SOURCES-96372.md §2.1)
        - Noridian, E/M services and drug administration (SOURCES-96372.md §2.1)
        - NCCI: E/M with 90460/90471/90473 (modifier indicator 1), G0008 with 99211 only
          (AAPC Part B Coding Alert; Blue Cross NC; SOURCES-96372.md §2.2)
    """
    encounter = visit.encounter
    if encounter is None or not encounter.em_codes or classify.is_telehealth(visit, ctx):
        return
    administration_codes = _drug_administration_codes(plan)
    if not administration_codes:
        yield from _em_with_vaccine(encounter, plan)
        return
    with_codes = ", ".join(administration_codes)
    if codes.EM_CODE_NURSE_VISIT in encounter.em_codes:
        yield _em_finding(
            encounter,
            "critical",
            [codes.EM_CODE_NURSE_VISIT],
            f"99211 with {with_codes}: 99211 is not payable with an injection code, even "
            "with modifier 25. Bill the injection and the drug only.",
        )
    others = [c for c in encounter.em_codes if c != codes.EM_CODE_NURSE_VISIT]
    if others:
        yield _em_finding(
            encounter,
            "warning",
            others,
            f"{', '.join(others)} with {with_codes}: modifier 25 on the E/M line (never on "
            "the injection code), and only for a significant, separately identifiable, "
            "documented service.",
            codes.MODIFIER_SEPARATE_EM,
        )


def _em_with_vaccine(encounter: EncounterFacts, plan: BillingPlan) -> Iterator[Finding]:
    """BIL004 for a visit whose only administration codes are vaccine administration."""
    given = list(dict.fromkeys(line.code for line in plan.vaccine_lines))
    paired = [c for c in given if c in codes.VACCINE_ADMIN_EM_BUNDLED]
    medicare = [c for c in given if c in codes.MEDICARE_VACCINE_ADMIN]
    if paired:
        yield _em_finding(
            encounter,
            "warning",
            list(encounter.em_codes),
            f"{', '.join(encounter.em_codes)} with {', '.join(paired)}: modifier 25 on the "
            "E/M line, and only for a significant, separately identifiable, documented "
            "service (NCCI pairs the E/M with the vaccine administration code).",
            codes.MODIFIER_SEPARATE_EM,
        )
    elif medicare and codes.EM_CODE_NURSE_VISIT in encounter.em_codes:
        yield _em_finding(
            encounter,
            "warning",
            [codes.EM_CODE_NURSE_VISIT],
            f"99211 with {', '.join(medicare)}: 99211 is bundled into the vaccine "
            "administration; bill the administration and the vaccine only.",
        )


def _em_finding(
    encounter: EncounterFacts,
    severity: Severity,
    em_codes: list[str],
    message: str,
    modifier: str | None = None,
) -> Finding:
    """One BIL004 finding on the encounter's E/M codes."""
    return Finding(
        rule="BIL004",
        severity=severity,
        resource=encounter.reference,
        element="Encounter.type",
        message=message,
        data={"emCodes": em_codes, **({"modifier": modifier} if modifier else {})},
    )


def _billable_injections(visit: VisitFacts, ctx: RuleContext) -> list[Administration]:
    return [
        a
        for a in visit.administrations
        if classify.given(a) and (classify.is_sc_im(a) or classify.is_iv_or_ia(a))
    ]


@register("BIL005", family="billing", severity="warning")
def facility_setting(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """The encounter is in a facility setting: the physician does not report the injection.

    Why it matters:
        96360-96379 are not reported by the physician in a facility setting (POS 19, 21,
        22, 23, 24, 26, 31, 34, 51, 52, 61 by default); the hospital reports 96372 on its own
        claim under OPPS. On an inpatient stay (POS 21, 51, 61 by default) nobody reports it
        separately: drugs and their administration are part of the inpatient (DRG) payment,
        so BIL001 lists no lines there.
    How to fix:
        Leave the injection off the professional claim; the facility bills it.
    Bad:
        POS 22 professional claim with 96372
    Good:
        POS 22 professional claim with the E/M only; the hospital claim carries 96372
    Sources:
        - Regence/UMP injection and infusion policy; CPT (SOURCES-96372.md §6)
        - Pub 100-04 ch.4 §230.2 (SOURCES-96372.md §6)
    """
    encounter = visit.encounter
    if encounter is None or not classify.is_facility(visit, ctx):
        return
    injections = _billable_injections(visit, ctx)
    if not injections:
        return
    if classify.is_inpatient(visit, ctx):
        setting = (
            "an inpatient stay: the injections and drugs are part of the hospital's inpatient "
            "payment; neither the physician nor the hospital bills them separately. "
        )
    else:
        setting = (
            "a facility setting: the physician does not report the injection codes; the "
            "hospital reports them on its claim. "
        )
    yield Finding(
        rule="BIL005",
        severity="warning",
        resource=encounter.reference,
        element="Encounter.class",
        message=(
            f"Place of service {encounter.place_of_service} is {setting}"
            + ", ".join(label(a) for a in injections)
        ),
        data={"placeOfService": encounter.place_of_service or ""},
    )


@register("BIL006", family="billing", severity="critical")
def telehealth_encounter(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """An injection charted on a telehealth encounter: it cannot be billed from it.

    Why it matters:
        An injection is hands-on; no source lists 96372 as a telehealth service. It belongs
        to an in-person encounter.
    How to fix:
        Chart the injection on the in-person encounter (class AMB, POS 11) where it was given.
    Bad:
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR"}
    Good:
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}
    Sources:
        - SOURCES-96372.md §4.4 and §7 (h)
    """
    encounter = visit.encounter
    if encounter is None or not classify.is_telehealth(visit, ctx):
        return
    injections = [a for a in visit.administrations if classify.given(a) and a.given_by_injection]
    if not injections:
        return
    yield Finding(
        rule="BIL006",
        severity="critical",
        resource=encounter.reference,
        element="Encounter.class",
        message=(
            "Telehealth encounter: an injection cannot be billed from it. "
            + ", ".join(label(a) for a in injections)
        ),
    )


@register("BIL007", family="billing", severity="warning")
def self_administered(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """Self-administered: the patient gave it, or the drug is on the SAD list.

    Why it matters:
        Medicare excludes both the drug and its administration for drugs on the MAC's
        self-administered-drug list (the shipped default: insulin, adalimumab, etanercept,
        GLP-1 agonists; or the MAC's list loaded with ``billing.sad_list``); the list
        applies to Medicare, and to other payers whose profile sets ``sad_list``. A
        patient's own injection is not a billable service.
    How to fix:
        Leave drug and administration off the claim (or bill with the payer's non-covered
        modifier where the payer asks for it).
    Bad:
        "performer": [{"actor": {"reference": "Patient/p1"}}] billed as 96372
    Good:
        not billed; documented as patient-administered
    Sources:
        - Pub 100-02 ch.15 §50.2; Noridian and Cahaba SAD lists (SOURCES-96372.md §4.3)
    """
    for administration in visit.administrations:
        if not (classify.given(administration) and administration.given_by_injection):
            continue
        if not classify.is_self_administered(administration, visit, ctx):
            continue
        by_patient = any(p.is_patient for p in administration.performers)
        listed = classify.sad_listing(administration, visit, ctx)
        why = (
            "given by the patient"
            if by_patient
            else f"on the self-administered-drug list ({listed}) that applies to this payer"
        )
        yield administration_finding(
            "BIL007",
            "warning",
            administration,
            "performer" if by_patient else "medication[x]",
            f"{why}; neither drug nor administration is billed.",
        )


@register("BIL008", family="billing", severity="info")
def not_completed(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """An administration was not completed: left out of billing.

    Also fires for an administration charted ``completed`` whose ``dosage.method`` says the
    dose was not given ("Not Given", "Held", "Flushed" — MIMIC's eMAR charts these events
    as completed): it is not billed and the documentation rules leave it alone.

    Why it matters:
        Only completed administrations are billed; the clinician sees why one is missing.
    How to fix:
        Nothing if it was not given; otherwise set the status to completed.
    Bad:
        "status": "not-done" expected on the claim
    Good:
        "status": "completed"
    Sources:
        - RULES.md BIL008
    """
    for administration in visit.administrations:
        if administration.source != "administration":
            continue
        method = administration.not_given_method
        if administration.status not in codes.NOT_COMPLETED_STATUSES and method is None:
            continue
        if not administration.given_by_injection:
            continue
        status = charted(administration.status)
        why = f"method “{charted(method)}”" if method else f"status {status}"
        yield administration_finding(
            "BIL008",
            "info",
            administration,
            "dosage.method" if method else "status",
            f"{why}; not billed.",
        )


@register("BIL009", family="billing", severity="warning")
def medically_unlikely(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """Units of a code exceed the loaded Medically Unlikely Edit for the setting.

    Fires only when a CMS MUE table is loaded (practitioner, or outpatient hospital in a
    facility setting, or the table the payer profile names); no MUE value is shipped.

    Why it matters:
        Units above the MUE for a date of service are denied (MAI 2 cannot be overridden;
        MAI 3 only on appeal with documentation).
    How to fix:
        Check the dose and units; split onto lines with 76/59 only for an MAI 1 edit.
    Bad:
        J3301 × 20 with an MUE of 8
    Good:
        units within the MUE, or documentation for the appeal
    Sources:
        - FCSO, Palmetto and NGS on MUEs and MAI (SOURCES-96372.md §1.4)
    """
    kind = classify.profile_of(visit, ctx).mue_table or (
        codes.MUE_OUTPATIENT_HOSPITAL
        if classify.is_facility(visit, ctx)
        else codes.MUE_PRACTITIONER
    )
    table = ctx.settings.mue_tables.get(kind)
    if table is None:
        return
    for code, units in units_by_code(plan.all_lines).items():
        entry = table.entries.get(code)
        if entry is None or units <= entry.limit:
            continue
        yield Finding(
            rule="BIL009",
            severity="warning",
            resource=visit.encounter.reference if visit.encounter else "Encounter",
            element="units",
            message=(
                f"{code} × {units} exceeds the MUE of {entry.limit}"
                + (f" (MAI {entry.mai})" if entry.mai else "")
                + f" in {table.source}."
            ),
            data={"code": code, "units": units, "mue": entry.limit, "table": table.source},
        )


@register("BIL010", family="billing", severity="info")
def antineoplastic(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """An antineoplastic drug given SC/IM: 96401/96402, not 96372.

    Hormonal anti-neoplastics (leuprolide, fulvestrant, goserelin, triptorelin, degarelix:
    the shipped complex-drug table) take 96402; other antineoplastics (J9000-J9999, or
    flagged) 96401. A payer profile may exclude HCPCS codes (``chemo_excluded_hcpcs``).
    IV chemotherapy is coded with the other IV services (BIL002).

    Why it matters:
        SC/IM anti-neoplastics use chemotherapy administration codes: 96401 non-hormonal,
        96402 hormonal.
    How to fix:
        Bill the code listed with the drug's J9 line.
    Bad:
        J9xxx SC billed with 96372
    Good:
        96401 + the J9 line
    Sources:
        - SOURCES-96372.md §2.3
        - CPT 96401/96402; Pub 100-04 ch.12 §30.5 (docs/SOURCES.md §12.4, §12.5)
    """
    if classify.is_telehealth(visit, ctx):
        return
    lines = list(plan.antineoplastic_lines)
    if lines:
        yield lines_finding("BIL010", "info", lines, "Chemotherapy administration, not 96372:")


@register("BIL011", family="billing", severity="warning")
def no_hcpcs_mapping(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """The drug has no HCPCS mapping: bill J3490 with name, dose and NDC.

    Why it matters:
        An unclassified drug is billed as J3490 with the drug name, dose and 11-digit NDC in
        the line note; without them the line is denied.
    How to fix:
        Bill J3490 with name, dose and NDC, or add the drug to the crosswalk (load the CMS
        ASP NDC-HCPCS crosswalk) if it has a code.
    Bad:
        a drug with no HCPCS code billed without NDC
    Good:
        J3490 × 1, NTE "drugname 10 mg", N4 + 11-digit NDC
    Sources:
        - Nebraska Blue injectable drug policy (SOURCES-96372.md §3.4)
    """
    for administration in visit.administrations:
        if not (classify.given(administration) and administration.given_by_injection):
            continue
        drug = administration.drug
        if drug is None or not drug.identified or is_vaccine(drug, ctx.catalog):
            continue
        if (
            classify.is_allergen(drug, ctx.catalog)
            or classify.is_flush_or_diluent(administration, visit)
            or classify.is_tuberculin_test(drug)
            or classify.is_parenteral_nutrition(drug)
        ):
            continue
        entry = classify.entry_for(drug, ctx.catalog)
        if entry is not None and entry.hcpcs is not None:
            continue
        ndc = classify.first_ndc11(drug)
        yield administration_finding(
            "BIL011",
            "warning",
            administration,
            "medication[x]",
            f"no HCPCS code; bill {codes.HCPCS_UNCLASSIFIED_DRUG} with the drug name, dose and "
            + (f"NDC {ndc}." if ndc else "11-digit NDC (none charted)."),
        )


@register("BIL012", family="billing", severity="info")
def repeat_injections(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """More than one 96372 on one date of service: how the repeats are billed.

    Why it matters:
        Each separate injection is reported; the second and later lines need the payer's
        modifier: 59 (CPT Assistant May 2010, the default), XS, 76 (Cahaba GBA), or one
        line with N units, per payer profile.
    How to fix:
        Bill as listed; chart the sites so the injections are shown to be separate.
    Bad:
        96372 × 1 for two injections
    Good:
        96372; 96372-59
    Sources:
        - CPT Assistant May 2010 via AAPC; Cahaba GBA modifier 59 FAQ (SOURCES-96372.md §1.3)
    """
    if classify.is_telehealth(visit, ctx):
        return
    injections = list(plan.injections)
    by_date: dict[str, int] = {}
    for group in classify.separate_injections(injections):
        day = classify.date_of_service(group[0])
        by_date[day] = by_date.get(day, 0) + 1
    convention = classify.profile_of(visit, ctx).repeat_convention
    how = (
        "one 96372 line with the number of injections as units"
        if convention == codes.REPEAT_UNITS
        else f"one 96372 line per injection, modifier {convention} on the second and later"
    )
    for day, count in by_date.items():
        if count < 2:
            continue
        yield Finding(
            rule="BIL012",
            severity="info",
            resource=injections[0].reference,
            element="dosage.site",
            message=f"{count} separate injections on {day}: {how}.",
            data={"injections": count, "convention": convention},
        )


@register("BIL013", family="billing", severity="info")
def allergen_immunotherapy(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """Allergen immunotherapy: 95115 (one injection) / 95117 (two or more), not 96372.

    Why it matters:
        96372 does not include allergen immunotherapy injections.
    How to fix:
        Bill 95115 or 95117 (the extract is billed separately).
    Bad:
        allergenic extract SC billed as 96372
    Good:
        95117 for two allergen injections
    Sources:
        - SOURCES-96372.md §3.2
    """
    yield from family_lines(
        "BIL013", plan.allergen_lines, "Allergen immunotherapy, not 96372:", visit, ctx
    )


@register("BIL014", family="billing", severity="info")
def integral_to_procedure(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """The administration is integral to a surgical procedure: not separately reportable.

    Fires when reasonReference (or partOf) names a Procedure categorised surgical (SNOMED
    387713003), or a Procedure that is not in the call (it could not be checked).

    Why it matters:
        Drug administration integral to a procedure (local anaesthesia, post-procedure pain
        medication) is part of the procedure.
    How to fix:
        Leave the injection off the claim, or unlink it if it was unrelated and separately
        necessary (then document why).
    Bad:
        "reasonReference": [{"reference": "Procedure/knee-arthroscopy"}] billed as 96372
    Good:
        not billed separately
    Sources:
        - SOURCES-96372.md §2.7
    """
    for administration in visit.administrations:
        if not (classify.given(administration) and administration.given_by_injection):
            continue
        procedures = classify.linked_procedures(administration, visit)
        if not procedures:
            continue
        yield administration_finding(
            "BIL014",
            "info",
            administration,
            "reasonReference",
            f"linked to {', '.join(procedures)}; integral to the procedure, not separately "
            "reportable.",
            data={"procedures": procedures},
        )
