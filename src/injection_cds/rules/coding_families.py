"""Infusions, chemotherapy, vaccines, skin tests, joints: BIL017-22, BIL029-30, DOC016-17, DOC019.

Each rule is one small pure function; the lines and doses come from the visit's
``BillingPlan`` (``core/billing``), so the cards and the claim lines never disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from injection_cds.core import codes
from injection_cds.core.billing import BillingPlan
from injection_cds.core.billing.joints import is_joint_injection, joint_of
from injection_cds.core.billing.vaccines import VaccineDose, state_supplied_product
from injection_cds.core.codes import RouteKind
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, VisitFacts
from injection_cds.rules.billing import family_lines, lines_finding
from injection_cds.rules.registry import (
    Finding,
    Severity,
    administration_finding,
    charted,
    label,
    per_administration,
    register,
)


def _dose_finding(rule: str, severity: Severity, dose: VaccineDose, message: str) -> Finding:
    return administration_finding(
        rule,
        severity,
        dose.administration,
        "medication[x]",
        message,
        data={"vaccineKind": dose.kind, **({"product": dose.product} if dose.product else {})},
    )


@register("BIL017", family="billing", severity="info")
def flush_or_diluent(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """A line flush or a diluent: part of the administration, not billed.

    Heparin or saline lock flushes (route IVFLUSH, or a flush product), and lidocaine,
    sterile water or saline used to reconstitute a drug (charted ``partOf`` the drug's
    administration, or ``dosage.method`` "diluent") get no administration code and no drug
    line.

    Why it matters:
        CPT's drug administration guidelines include the flush at the end of an infusion,
        the IV start and the preparation of the drug in the administration service; NCCI
        (Policy Manual ch.11) bundles them. A separate 96372/96374 or drug line for them is
        an overpayment.
    How to fix:
        Nothing to bill. Keep charting them (the MAR must show them).
    Bad:
        heparin lock flush 500 units billed as 96374 + J1642 × 50
    Good:
        heparin lock flush charted, not billed
    Sources:
        - CPT drug administration guidelines (96360-96549): services included
          (docs/SOURCES.md §12.3)
        - NCCI Policy Manual for Medicare Services, ch.11 (docs/SOURCES.md §12.3)
    """
    for administration in plan.flushes:
        yield administration_finding(
            "BIL017",
            "info",
            administration,
            "dosage.route",
            "a flush or diluent is part of the administration; "
            "no administration code and no drug line.",
        )


@register("BIL018", family="billing", severity="warning")
def medicare_part_d_vaccine(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """A vaccine Medicare Part B does not cover (zoster, Tdap, RSV …): Part D, not Part B.

    Medicare Part B covers influenza, pneumococcal, hepatitis B (medium or high risk) and
    COVID-19 vaccines, and a vaccine given because of an injury or a direct exposure (a
    tetanus vaccine after a wound, rabies vaccine after a bite: the linked diagnosis is an
    ICD-10-CM injury S00-T88, an external cause V00-Y99 or Z20 exposure). Other vaccines
    are Part D drugs: no Part B line is proposed.

    Why it matters:
        A Part B claim for a Part D vaccine is denied; the patient's Part D plan pays it
        (pharmacy, or the practice through the plan's electronic billing service).
    How to fix:
        Bill the patient's Part D plan. If the vaccine was given for an injury or
        exposure, link that diagnosis (reasonReference) and it becomes Part B (90471).
    Bad:
        Shingrix for a Medicare patient billed to Part B as 90471 + 90750
    Good:
        Shingrix billed to the Part D plan; Tdap after a laceration (S61.412A) billed to
        Part B as 90471 + 90715
    Sources:
        - Pub 100-02 ch.15 §50.4.4.2 (docs/SOURCES.md §12.11)
        - MLN Medicare Part D vaccines; Pub 100-04 ch.18 §10 (docs/SOURCES.md §12.11)
    """
    for dose in plan.vaccine.part_d:
        yield _dose_finding(
            "BIL018",
            "warning",
            dose,
            "Medicare Part D vaccine: not billed to Part B (no injury or exposure diagnosis "
            "linked); bill the patient's Part D plan.",
        )


@register("BIL019", family="billing", severity="info")
def state_supplied_vaccine(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """A state-supplied (VFC) vaccine: the administration is billed, the product as the payer asks.

    The chart says state-supplied with the Immunization's ``fundingSource`` (``public``;
    CDC VXC50-VXC52) or ``programEligibility`` (HL7 v2 table 0064 V02-V05), or the
    administration's ``vaccine-funding`` extension. The payer profile's
    ``state_supplied_product`` says how the product line goes: modifier SL (Medicaid by
    default), $0.00 (the default elsewhere) or left off.

    Why it matters:
        The practice paid nothing for VFC stock and may not charge for it; the
        administration fee is its payment.
    How to fix:
        Bill the lines as listed.
    Bad:
        VFC MMR billed as 90707 at the private price
    Good:
        90460 + 90461 × 2; 90707-SL (Medicaid)
    Sources:
        - CDC Vaccines for Children operations guide; state Medicaid SL modifier
          instructions (docs/SOURCES.md §12.12)
    """
    how = state_supplied_product(visit, ctx)
    said = {
        "SL": "product line with modifier SL",
        "zero": "product line at $0.00",
        "omit": "no product line",
    }[how]
    for dose in plan.vaccine.state_supplied:
        yield _dose_finding(
            "BIL019",
            "info",
            dose,
            f"state-supplied (VFC) vaccine: the administration is billed; {said}.",
        )


@register("BIL020", family="billing", severity="warning")
def vaccine_product_missing(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """A vaccine with no product code (no CPT product code, known CVX or crosswalked NDC).

    Why it matters:
        The vaccine product is billed on its own line beside the administration code; an
        administration code alone is denied.
    How to fix:
        Chart the CVX code (or the CPT product code 90476-90759/913xx) on the Medication,
        or the NDC with the CMS ASP NDC-HCPCS crosswalk loaded.
    Bad:
        "code": {"text": "flu shot"}
    Good:
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "150"}]}
    Sources:
        - CDC CPT-CVX mapping (docs/SOURCES.md §12.9); CMS ASP NDC-HCPCS crosswalk
    """
    for dose in plan.vaccine.missing_product:
        yield _dose_finding(
            "BIL020",
            "warning",
            dose,
            "no vaccine product code (CPT): chart the CVX code, the CPT product code or the NDC.",
        )


@register("BIL021", family="billing", severity="info")
def hydration_not_billed(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """Hydration that is not separately billable: 30 minutes or less, or run concurrently.

    Why it matters:
        CPT: hydration of 30 minutes or less is not reported; hydration given at the same
        time as another infusion is not reported separately (96361 is for hydration
        before or after another service, through the same access).
    How to fix:
        Nothing to bill; chart the real start and stop times if they differ.
    Bad:
        normal saline 20 minutes billed as 96360
    Good:
        normal saline 45 minutes billed as 96360
    Sources:
        - CPT 96360/96361 guidelines (docs/SOURCES.md §12.1); Pub 100-04 ch.12 §30.5
    """
    for administration, why in plan.iv.not_billed:
        yield administration_finding(
            "BIL021", "info", administration, "effectivePeriod", f"{why}; not separately billable."
        )


@register("BIL022", family="billing", severity="warning")
def chemotherapy_needs_documentation(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """An antineoplastic was given but its administration code cannot be chosen: what is missing.

    An antineoplastic (or a complex biologic) never goes without a card: when the route or
    the times are not charted, this card lists the drug line and what the chart must add
    to choose between 96401/96402 (SC/IM), 96409/+96411 (IV push) and 96413/+96415/+96417
    (IV infusion, by duration). On an inpatient stay it says so: nothing is billed
    separately there (Part A), but the record still lacks the route and times.

    Why it matters:
        Chemotherapy administration is paid by route and time; the code cannot be chosen
        without them, and a claim without the administration loses it.
    How to fix:
        Chart the route (HL7 v3 IVPUSH, IV, SQ, IM) and, for an infusion, the start and
        stop times in ``effectivePeriod``.
    Bad:
        {"medicationCodeableConcept": {"text": "Cisplatin 50 MG Injection"},
         "effectiveDateTime": "2002-11-06T03:50:21-05:00"}
    Good:
        "effectivePeriod": {"start": "2026-11-24T09:00:00-05:00",
          "end": "2026-11-24T10:30:00-05:00"},
        "dosage": {"route": {"coding": [{"system":
          "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration", "code": "IV"}]}}
    Sources:
        - CPT 96401-96417; Pub 100-04 ch.12 §30.5 (docs/SOURCES.md §12.4)
    """
    inpatient = plan.setting == codes.SETTING_INPATIENT
    for item in plan.uncodable_chemo:
        message = (
            f"{label(item.administration)}: chemotherapy administration, code not chosen — "
            f"chart {'; and '.join(item.missing)}."
        )
        if inpatient:
            message += (
                " Inpatient stay: the administration and the drug are part of the hospital's "
                "inpatient (Part A) payment, not billed separately."
            )
        finding = lines_finding(
            "BIL022",
            "warning",
            list(item.drug_lines),
            message + (" Drug line:" if item.drug_lines else ""),
        )
        reference = item.administration.reference
        yield replace(finding, resource=reference, data={**finding.data, "resources": [reference]})


_TIMED_ROUTES = frozenset({RouteKind.IV_INFUSION, RouteKind.SQ_INFUSION})


@per_administration("DOC016", severity="warning", element="effectivePeriod")
def infusion_times_missing(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> str | None:
    """An infusion without its start and stop times.

    Why it matters:
        Infusion codes are chosen by time: 15 minutes or less is a push; 96365/96413 cover
        up to an hour and each hour beyond (more than 30 minutes) is an add-on
        (+96366/+96415/+96361/+96370); hydration of 30 minutes or less is not billed.
        Payers ask for start and stop times in the record.
    How to fix:
        Chart ``effectivePeriod`` with ``start`` and ``end`` (date and time).
    Bad:
        "effectiveDateTime": "2026-11-24T09:00:00-05:00" (an infusion)
    Good:
        "effectivePeriod": {"start": "2026-11-24T09:00:00-05:00",
          "end": "2026-11-24T10:40:00-05:00"}
    Sources:
        - CPT drug administration guidelines, time (docs/SOURCES.md §12.1)
        - Pub 100-04 ch.12 §30.5 (docs/SOURCES.md §12.2)
    """
    if administration.effective_route_kind not in _TIMED_ROUTES:
        return None
    if administration.duration_minutes is not None:
        return None
    return f"{label(administration)}: infusion charted without its start and stop times."


@register("DOC017", family="documentation", severity="info")
def vaccine_counselling_not_visible(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """A vaccine for a patient 18 or younger, and no counselling the service can see.

    90460 (+90461 per further component) needs face-to-face counselling of the patient or
    family by the physician or other qualified health care professional; without it the
    vaccine is billed 90471/+90472.

    Why it matters:
        90460/90461 pay for the counselling; a practice that counsels and bills 90471
        loses it, one that bills 90460 without documenting it is overpaid.
    How to fix:
        Send the dose's Immunization with ``education`` (the VIS given and its
        presentation date) and document the counselling by the physician or QHP in the
        note; then 90460/+90461 replace 90471/+90472.
    Bad:
        MMR for a 4-year-old, no Immunization.education: billed 90471
    Good:
        "education": [{"documentType": "253088698300012711120420",
          "presentationDate": "2026-11-24"}]: billed 90460 + 90461 × 2
    Sources:
        - CPT 90460/90461 (counselling by a physician or QHP, through 18 years);
          AAP vaccine component coding (docs/SOURCES.md §12.10)
    """
    for dose in plan.vaccine.uncounselled_minors:
        yield administration_finding(
            "DOC017",
            "info",
            dose.administration,
            "Immunization.education",
            "patient 18 or younger and no counselling documented (Immunization.education): "
            "billed 90471/+90472, not 90460/+90461.",
        )


@register("BIL029", family="billing", severity="info")
def tuberculin_skin_test(
    visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> Iterator[Finding]:
    """A tuberculin skin test: 86580, not 96372, 90471 or an unclassified drug line.

    Fires for a PPD placed intradermally (tuberculin, Tubersol, Aplisol, Mantoux, or CPT
    86580 on the drug): one 86580 per test. The test is a diagnostic skin test in CPT's
    immunology section, not an injection and not a vaccine; the code includes placing it
    and the PPD itself. Reading it 48-72 hours later is a separate visit.

    Why it matters:
        Billing 96372 or 90471 for the placement, or J3490 with the PPD's NDC, is denied or
        overpaid: the antigen and the placement are in 86580.
    How to fix:
        Bill 86580 × 1; no drug line, no administration code.
    Bad:
        Tubersol 0.1 mL intradermal billed as J3490 (NDC 49281-0752-21) + 96372
    Good:
        86580 × 1, diagnosis Z11.1
    Sources:
        - AAPC Pediatric Coding Alert, 2010-09-16, "What items does 86580 include?" (the
          PPD is included; no separate administration) (docs/SOURCES.md §9)
        - OPPS Addendum B 2025Q4: 86580 SI Q1 on a hospital outpatient claim
    """
    yield from family_lines(
        "BIL029", plan.skin_test_lines, "Tuberculin skin test, not 96372:", visit, ctx
    )


@register("BIL030", family="billing", severity="info")
def joint_injection(visit: VisitFacts, ctx: RuleContext, plan: BillingPlan) -> Iterator[Finding]:
    """A joint or bursa injection: 20600/20605/20610 by joint size and the drug, not 96372.

    Fires for a route intra-articular or intrabursal (SNOMED CT 12130007; HL7 v3 IARTINJ,
    IBURSINJ, ISYNINJ; or the words) into a joint the charted site names: 20600 small
    (fingers, toes), 20605 intermediate (wrist, elbow, ankle, TMJ, AC joint, olecranon
    bursa), 20610 major (shoulder, hip, knee, subacromial bursa); 20604/20606/20611 when
    ultrasound guidance and its permanent recording and report are charted. RT or LT from
    the site (not on fingers and toes); a joint injected on both sides on one date is one
    line with modifier 50, or an RT and an LT line where the payer profile says
    ``bilateral = "RT/LT"``. The drug has its own line (Kenalog-40 40 mg: J3301 × 4).

    Why it matters:
        96372 is for SC/IM injections; an injection into a joint is an arthrocentesis code
        (aspiration and injection of one joint in one session: one unit). Ultrasound
        guidance is in 20604/20606/20611: no separate 76942 (NCCI ch.4); guidance without a
        permanent recording and report bills the unguided code.
    How to fix:
        Bill the joint's code with the drug's HCPCS line; chart `dosage.method` "ultrasound
        guided, images recorded" when guidance was used.
    Bad:
        triamcinolone 40 mg into the right knee billed 96372 + J3301 × 4
    Good:
        20610 × 1 + J3301 × 4 (NDC N4 on the drug line)
    Sources:
        - CPT 20600-20611 (code numbers only; docs/SOURCES.md §14)
        - NCCI Policy Manual for Medicare Services ch.IV (CPT 20000-29999): imaging
          guidance with arthrocentesis (docs/SOURCES.md §14)
        - Highmark medical policy S-31-004: the drug is billed with its HCPCS code beside the
          arthrocentesis code (docs/SOURCES.md §14)
        - First Coast Service Options (MAC), "Bilateral indicators": 20600 on both sides is
          one line with modifier 50; TMHP manual §36.4.47.4: RT and LT lines (§14)
    """
    yield from family_lines(
        "BIL030", plan.joint_lines, "Joint or bursa injection, not 96372:", visit, ctx
    )


@per_administration("DOC019", severity="warning", element="dosage.site")
def joint_not_named(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> str | None:
    """A joint or bursa injection whose charted site does not say which joint.

    The arthrocentesis code depends on the joint's size (BIL030); a site such as "left
    hand" or "right foot" holds joints of several sizes, so the service asks rather than
    guesses, and proposes no line until the chart says. A missing site is DOC002's.

    Why it matters:
        20600, 20605 and 20610 pay differently; a code chosen without the joint named is
        unsupported by the record on review.
    How to fix:
        Chart the joint in `dosage.site` (SNOMED CT body structure: knee, shoulder, wrist,
        finger ... or its words).
    Bad:
        "route": intra-articular, "site": {"text": "left hand"}
    Good:
        "route": intra-articular, "site": {"text": "left wrist joint"}
    Sources:
        - CPT 20600-20611 by joint size (code numbers only; docs/SOURCES.md §14)
    """
    if administration.site is None or not is_joint_injection(administration):
        return None
    if joint_of(administration.site) is not None:
        return None
    return (
        f"{label(administration)}: intra-articular injection into "
        f"“{charted(administration.site.label)}”: which joint? (the code depends on its size)"
    )
