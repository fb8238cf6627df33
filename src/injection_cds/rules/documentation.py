"""Documentation rules DOC001-DOC014 (RULES.md "Documentation rules").

Each rule is one small pure function over one administration. It applies only to billable
candidates — completed, and given by injection (the route says so or, when the route is
missing or uncoded, the drug does) — unless its registration says otherwise.
"""

from __future__ import annotations

import re

from injection_cds.core import codes
from injection_cds.core.billing.classify import is_parenteral_nutrition, is_tuberculin_test
from injection_cds.core.billing.stops import last_valid_day
from injection_cds.core.codes import RouteKind
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, Drug, VisitFacts
from injection_cds.core.ndc import normalise_ndc
from injection_cds.reference.catalog import is_vaccine
from injection_cds.rules.registry import (
    NEEDED_NOW,
    Finding,
    administration_finding,
    charted,
    label,
    per_administration,
)

_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@per_administration("DOC001", severity="critical", element="dosage.route", orders_too=True)
def route_missing_or_uncoded(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> str | None:
    """Route of administration missing or not coded.

    Why it matters:
        The route decides the code: 96372 is SC/IM only; intra-arterial is 96373, IV push
        96374, IV infusion 96365. Payers deny drug administration lines whose record does not
        show the route (Noridian drug-administration documentation checklist: the MAR shows
        name, dose, route).
    How to fix:
        Chart the route with a SNOMED CT route code (78421000 intramuscular, 34206005
        subcutaneous) or an HL7 v3 RouteOfAdministration code (IM, SQ, IVPUSH).
    Bad:
        "dosage": {"route": {"text": "IM"}, "dose": {"value": 1, "unit": "g"}}
    Good:
        "dosage": {"route": {"coding": [{"system": "http://snomed.info/sct",
          "code": "78421000", "display": "Intramuscular route"}]}}
    Sources:
        - Noridian JF/JE Part B, drug administration documentation requirements
          (SOURCES-96372.md §4.1)
        - CPT 96372 descriptor, "subcutaneous or intramuscular" (SOURCES-96372.md §1.1)
    """
    if administration.route_coded:
        return None
    if administration.route is None:
        return f"{label(administration)}: no route charted."
    return (
        f"{label(administration)}: route “{charted(administration.route.label)}” is not coded "
        "(SNOMED CT or HL7 v3 RouteOfAdministration)."
    )


@per_administration("DOC002", severity="warning", element="dosage.site")
def site_missing(administration: Administration, visit: VisitFacts, ctx: RuleContext) -> str | None:
    """Injection site missing.

    Not asked of IV push or infusion, nor of a drug given only intravenously (cisplatin,
    vincristine...) when the route is not charted: the drug goes into a line whose access
    site is documented with the line, not on each administration.

    Why it matters:
        Best practice and audit defence; a second injection's repeat modifier (anatomic,
        59 or XS) needs the site to show the injections were separate.
    How to fix:
        Chart the site in `dosage.site` (SNOMED CT body structure, or HL7 v2 table 0163:
        LD/RD deltoid, LG/RG gluteus medius, LVL/RVL vastus lateralis, LT/RT thigh).
    Bad:
        "dosage": {"route": {...}, "dose": {...}}
    Good:
        "dosage": {"site": {"coding": [{"system":
          "http://terminology.hl7.org/CodeSystem/v2-0163", "code": "LD",
          "display": "Left Deltoid"}]}, "route": {...}}
    Sources:
        - Secondary sources only (carepatron, medpayiq): SOURCES-96372.md §4.1
        - CPT Assistant May 2010 on separate injections (SOURCES-96372.md §1.3)
    """
    if administration.site is not None:
        return None
    if administration.effective_route_kind in codes.IV_ROUTES:
        return None
    if administration.effective_route_kind is None and _given_only_iv(administration):
        return None
    return f"{label(administration)}: no injection site charted."


def _given_only_iv(administration: Administration) -> bool:
    drug = administration.drug
    if drug is None:
        return False
    text = drug.searchable_text()
    return any(word in text for word in (*codes.IV_ONLY_DRUG_WORDS, *codes.IV_ONLY_FORM_WORDS))


@per_administration("DOC003", severity="warning", element="Medication.batch.lotNumber")
def lot_number_missing(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> Finding | None:
    """Lot number missing (critical for vaccines).

    Not asked of a drug that is not identified (DOC014 says so; its lot means nothing yet).

    Why it matters:
        Traceability and recalls. For vaccines the lot number is required in the
        vaccination record, so a missing lot on a vaccine is critical.
    How to fix:
        Record the lot from the vial or syringe in `Medication.batch.lotNumber` (the
        Medication is usually contained in the administration).
    Bad:
        "contained": [{"resourceType": "Medication", "id": "med1", "code": {...}}]
    Good:
        "contained": [{"resourceType": "Medication", "id": "med1", "code": {...},
          "batch": {"lotNumber": "AB1234", "expirationDate": "2027-03-31"}}]
    Sources:
        - Secondary sources on lot documentation (SOURCES-96372.md §4.1)
    """
    drug = administration.drug
    if drug is None or not drug.identified or drug.lot_number:
        return None
    vaccine = is_vaccine(drug, ctx.catalog)
    return administration_finding(
        "DOC003",
        "critical" if vaccine else "warning",
        administration,
        "Medication.batch.lotNumber",
        "no lot number" + (" (required for a vaccine)." if vaccine else "."),
    )


@per_administration("DOC004", severity="info", element="Medication.batch.expirationDate")
def expiration_missing(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> str | None:
    """Expiration date missing.

    Not asked of a drug that is not identified (DOC014 says so).

    Why it matters:
        Traceability: with the lot, the expiration date lets a recall or an expired-product
        review find this administration.
    How to fix:
        Record `Medication.batch.expirationDate` from the product label.
    Bad:
        "batch": {"lotNumber": "AB1234"}
    Good:
        "batch": {"lotNumber": "AB1234", "expirationDate": "2027-03-31"}
    Sources:
        - Best practice; not found in any payer source for non-vaccine injections
          (SOURCES-96372.md §4.1)
    """
    drug = administration.drug
    if drug is None or not drug.identified or drug.expiration is not None:
        return None
    return f"{label(administration)}: no expiration date."


@per_administration("DOC005", severity="critical", element="Medication.batch.expirationDate")
def expired_product(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> str | None:
    """The product had expired when it was given.

    Why it matters:
        An expired product was given: a patient-safety event to report and follow up, and
        not billable.
    How to fix:
        Check the charted expiration date and lot against the product; if it is right,
        follow the medication-event procedure; if it was mistyped, correct it.
    Bad:
        "effectiveDateTime": "2026-05-01T10:00:00Z", ... "batch": {"expirationDate": "2026-04-30"}
    Good:
        "effectiveDateTime": "2026-05-01T10:00:00Z", ... "batch": {"expirationDate": "2027-04-30"}
    Sources:
        - Not billable: a product past its expiry is not a covered drug (SOURCES-96372.md §4.1)
    """
    drug = administration.drug
    if drug is None or drug.expiration is None or administration.effective is None:
        return None
    last_day = last_valid_day(drug.expiration)
    given = administration.effective.date
    if last_day is None or given is None or given <= last_day:
        return None
    return (
        f"{label(administration)}: the product expired on {drug.expiration.text}, "
        "before it was given."
    )


@per_administration(
    "DOC006", severity="warning", element="Medication.code.coding (NDC)", billing_only=True
)
def ndc_missing(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> Finding | None:
    """No NDC on the drug.

    Critical when the payer requires NDCs (Medicaid, or a payer profile that says so) or
    the drug has no HCPCS code (the unclassified J3490 line needs the NDC). An unidentified
    drug is left to DOC014. A billing finding: shown at the bedside only in those two cases,
    when the NDC must be read off the package now.

    Why it matters:
        Medicaid requires the NDC on physician-administered drug claims (DRA 2005 §6002,
        SSA §1927(a)(7)); many commercial payers require it on every drug line.
    How to fix:
        Scan or record the NDC of the package used, as a coding with system
        `http://hl7.org/fhir/sid/ndc` on the Medication.
    Bad:
        "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
          "code": "1665021"}]}
    Good:
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc",
          "code": "0409-7332-01"}, {"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
          "code": "1665021"}]}
    Sources:
        - Medicaid.gov SMD letter 07-11-06; DRA 2005 §6002 (SOURCES-96372.md §5)
        - BCBS Alabama injectable drugs policy, NDC on all drug claims (SOURCES-96372.md §4.1)
    """
    drug = administration.drug
    if drug is None or not drug.identified or drug.ndcs:
        return None
    if is_tuberculin_test(drug) or is_parenteral_nutrition(drug):
        return None  # 86580 alone (BIL029); TPN is the supplier's B-code: no drug line here
    no_hcpcs = _unclassified(drug, ctx)
    required = ctx.settings.ndc_required(visit.payer.payer_class, visit.payer.payer_ids)
    if required:
        why = " (the payer requires it)."
    elif no_hcpcs:
        why = " (no HCPCS code: an unclassified J3490 line needs the NDC)."
    else:
        why = "."
    return administration_finding(
        "DOC006",
        "critical" if required or no_hcpcs else "warning",
        administration,
        "Medication.code.coding (NDC)",
        f"no NDC{why}",
        data={NEEDED_NOW: True} if required or no_hcpcs else {},
    )


def _unclassified(drug: Drug, ctx: RuleContext) -> bool:
    """The drug would bill on the unclassified J3490 line, whose NDC is required.

    A drug with no HCPCS code of its own, unless it is a vaccine or toxoid: a vaccine bills
    its CPT product code, charted or read from the CVX (BIL003), and one with no product
    code found is BIL020's, not a J3490 line (SOURCES-96372.md §3.1, §3.4 NOC codes).
    """
    entry = ctx.catalog.identify(drug)
    return (entry is None or entry.hcpcs is None) and not is_vaccine(drug, ctx.catalog)


@per_administration(
    "DOC007", severity="critical", element="Medication.code.coding (NDC)", billing_only=True
)
def ndc_malformed(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> Finding | None:
    """An NDC is present but malformed.

    Accepted: 10 digits as 4-4-2, 5-3-2 or 5-4-1 with hyphens, or 11 digits (plain or
    5-4-2). An unhyphenated 10-digit NDC is ambiguous and is reported, not guessed. A
    billing finding: shown at the bedside when the payer requires NDCs.

    Why it matters:
        Claims need the 11-digit 5-4-2 form; a wrong NDC is a denial.
    How to fix:
        Record the NDC exactly as on the package, with its hyphens.
    Bad:
        {"system": "http://hl7.org/fhir/sid/ndc", "code": "0002759701"}
    Good:
        {"system": "http://hl7.org/fhir/sid/ndc", "code": "0002-7597-01"}
    Sources:
        - NDC 10-to-11-digit conversion; 837P LIN03 (SOURCES-96372.md §5)
    """
    drug = administration.drug
    if drug is None or not drug.identified:
        return None
    bad = [ndc for ndc in drug.ndcs if normalise_ndc(ndc) is None]
    if not bad:
        return None
    return administration_finding(
        "DOC007",
        "critical",
        administration,
        "Medication.code.coding (NDC)",
        f"NDC “{charted(bad[0])}” is not a valid 10- or 11-digit NDC.",
        data={NEEDED_NOW: True}
        if ctx.settings.ndc_required(visit.payer.payer_class, visit.payer.payer_ids)
        else {},
    )


def linked_diagnoses(administration: Administration, visit: VisitFacts) -> list[tuple[str, ...]]:
    """The ICD-10-CM codes of each linked diagnosis: reasons first, else the encounter's."""
    reasons = [r for r in administration.reasons if r.kind != "procedure"]
    if reasons:
        return [r.icd10cm for r in reasons]
    if visit.encounter is not None:
        return [d.icd10cm_codes() for d in visit.encounter.diagnoses]
    return []


@per_administration("DOC008", severity="critical", element="reasonReference", orders_too=True)
def diagnosis_not_linked(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> str | None:
    """No diagnosis linked to the administration or its encounter.

    Why it matters:
        Medical necessity: every CERT and MAC review checklist asks for the diagnosis that
        supports the drug; a drug line without one is denied.
    How to fix:
        Link the Condition in `reasonReference` (or code it in `reasonCode`), or add it to
        `Encounter.diagnosis`.
    Bad:
        {"resourceType": "MedicationAdministration", "status": "completed", ...}
    Good:
        "reasonReference": [{"reference": "Condition/d51-0"}]
    Sources:
        - NGS CERT error reasons; Noridian checklist (SOURCES-96372.md §4.1)
    """
    if linked_diagnoses(administration, visit):
        return None
    return f"{label(administration)}: no diagnosis linked."


@per_administration(
    "DOC009", severity="warning", element="reasonCode", orders_too=True, billing_only=True
)
def diagnosis_not_icd10cm(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> str | None:
    """A diagnosis is linked but none is coded in ICD-10-CM.

    Why it matters:
        The claim's diagnosis pointers need ICD-10-CM codes; a SNOMED-only, ICD-9 or
        free-text diagnosis must be coded before the claim goes out.
    How to fix:
        Add the ICD-10-CM coding (system `http://hl7.org/fhir/sid/icd-10-cm`) to the
        Condition or reasonCode.
    Bad:
        "reasonCode": [{"coding": [{"system": "http://snomed.info/sct", "code": "234347009"}]}]
    Good:
        "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
          "code": "D51.0"}]}]
    Sources:
        - HIPAA code set for diagnoses on claims: ICD-10-CM (SOURCES-96372.md §4.1)
    """
    linked = linked_diagnoses(administration, visit)
    if not linked or any(linked):
        return None
    return f"{label(administration)}: the linked diagnosis has no ICD-10-CM code."


@per_administration("DOC010", severity="warning", element="dosage.dose", orders_too=True)
def dose_missing(administration: Administration, visit: VisitFacts, ctx: RuleContext) -> str | None:
    """Dose missing.

    Why it matters:
        Drug units on the claim are computed from the dose (BIL001), and the MAR must show
        the quantity given.
    How to fix:
        Record `dosage.dose` as a UCUM quantity (value and unit: mg, mL, mcg, [iU]).
    Bad:
        "dosage": {"route": {...}}
    Good:
        "dosage": {"route": {...}, "dose": {"value": 60, "unit": "mg",
          "system": "http://unitsofmeasure.org", "code": "mg"}}
    Sources:
        - Noridian: MAR with quantity administered, dose (SOURCES-96372.md §4.1)
    """
    dose = administration.dose
    if dose is not None and dose.value is not None:
        return None
    return f"{label(administration)}: no dose charted."


@per_administration("DOC011", severity="warning", element="performer.actor")
def performer_missing(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> str | None:
    """No performer recorded.

    Why it matters:
        Reviewers ask for the identity and credentials of whoever gave the drug (Noridian);
        incident-to billing also depends on who gave it.
    How to fix:
        Record `performer.actor` (Practitioner or PractitionerRole).
    Bad:
        {"resourceType": "MedicationAdministration", "status": "completed", ...}
    Good:
        "performer": [{"actor": {"reference": "Practitioner/rn-42"}}]
    Sources:
        - Noridian: credentials of all personnel providing services (SOURCES-96372.md §4.1)
    """
    if administration.performers:
        return None
    return f"{label(administration)}: no performer recorded."


@per_administration("DOC012", severity="warning", element="effectiveDateTime")
def time_missing(administration: Administration, visit: VisitFacts, ctx: RuleContext) -> str | None:
    """No administration time.

    Why it matters:
        The date of service on the claim and the MAR entry both come from it.
    How to fix:
        Record `effectiveDateTime` (or `effectivePeriod` for an infusion).
    Bad:
        {"resourceType": "MedicationAdministration", "status": "completed", ...}
    Good:
        "effectiveDateTime": "2026-11-24T10:15:00-05:00"
    Sources:
        - MAR entry requirements (SOURCES-96372.md §4.1)
    """
    if administration.effective is not None:
        return None
    return f"**{charted(administration.drug_name)}**: no administration time charted."


@per_administration("DOC013", severity="info", element="request")
def order_not_linked(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> str | None:
    """No link to an order.

    Why it matters:
        On review, a signed order with drug, dose, route and frequency is required
        (Noridian; NGS CERT errors for incomplete orders).
    How to fix:
        Link the MedicationRequest in `request`.
    Bad:
        {"resourceType": "MedicationAdministration", "status": "completed", ...}
    Good:
        "request": {"reference": "MedicationRequest/ord-1"}
    Sources:
        - Noridian drug administration checklist; NGS CERT (SOURCES-96372.md §4.1)
    """
    if administration.request:
        return None
    return f"{label(administration)}: not linked to an order."


def _could_be_injection(administration: Administration) -> bool:
    return administration.completed and (
        administration.effective_route_kind is None
        or administration.effective_route_kind != RouteKind.NOT_INJECTION
    )


@per_administration(
    "DOC014",
    severity="critical",
    element="medication[x]",
    orders_too=True,
    candidates_only=False,
)
def drug_not_identified(
    administration: Administration, visit: VisitFacts, ctx: RuleContext
) -> str | None:
    """The drug is not identified.

    Fires for a completed administration (or order) that is not known to be a
    non-injection, when it has no medication code, or names a Medication that is not there.

    Why it matters:
        Nothing can be billed or checked without knowing the drug.
    How to fix:
        Chart the product (NDC or RxNorm), or make sure the referenced Medication is sent
        (contained, or in the prefetch).
    Bad:
        "medicationReference": {"reference": "Medication/not-there"}
    Good:
        "medicationReference": {"reference": "#med1"}, "contained": [{"resourceType":
          "Medication", "id": "med1", "code": {"coding": [{"system":
          "http://hl7.org/fhir/sid/ndc", "code": "0409-7332-01"}]}}]
    Sources:
        - RULES.md DOC014
    """
    if not _could_be_injection(administration):
        return None
    drug = administration.drug
    if drug is not None and drug.identified:
        return None
    if drug is not None and not drug.resolved:
        return (
            f"**{charted(drug.name)}** ({administration.when}): the Medication it names could "
            "not be found."
        )
    return f"**unidentified drug** ({administration.when}): no medication charted."
