"""Builds the per-rule fixtures in ``fixtures/rules/DOC*/``: whole CDS Hooks requests.

The committed JSON files are what people read and curl; this module only writes them, so
that every fixture is built from the same realistic R4 resources and differs from a
complete chart by exactly the defect (or the variation) its name says.

    .venv/bin/python tests/fixture_factory.py      # rewrite fixtures/rules/DOC*/*.json

Review the diff before committing: the fixtures are data, not output.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fhir_builders import (
    CEFTRIAXONE,
    CHARTING,
    CYANOCOBALAMIN,
    DISCHARGE,
    ENOXAPARIN,
    FLU_VACCINE,
    FORM_INJECTION_SOLUTION,
    ICD10CM,
    NDC,
    ORDER_SIGN,
    ROOT,
    ROUTE_IM_V3,
    ROUTE_SC_SNOMED,
    ROUTE_SQ_V3,
    RXNORM,
    SITE_ABDOMEN_SNOMED,
    SITE_LD,
    SITE_LEFT_UPPER_ARM_SNOMED,
    SNOMED,
    V2_SITE,
    V3_ROUTE,
    Json,
    administration,
    coding,
    condition,
    coverage,
    dose,
    encounter,
    medication,
    order,
    request,
)

RULES_DIR = ROOT / "fixtures" / "rules"


# --- the fixtures --------------------------------------------------------------------------
Builder = Callable[[str], Json]
FIXTURES: dict[str, dict[str, tuple[str, Builder]]] = {}


def fixture(rule: str, name: str, description: str) -> Callable[[Builder], Builder]:
    def decorate(build: Builder) -> Builder:
        FIXTURES.setdefault(rule, {})[name] = (description, build)
        return build

    return decorate


def _without(resource: Json, *path: str) -> Json:
    """A copy of ``resource`` with the element at ``path`` removed."""
    result = copy.deepcopy(resource)
    node = result
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return result


def _b12_condition() -> Json:
    return condition(
        "cond-d510",
        ("D51.0", "Vitamin B12 deficiency anemia due to intrinsic factor deficiency"),
        ("84027009", "Pernicious anemia"),
        "Pernicious anemia",
    )


def _given_for(hook: str, name: str, ma: Json, diagnosis: Json) -> Json:
    """A request with one administration given for one diagnosis, the encounter's."""
    return request(
        hook, name, [ma], conditions=[diagnosis], enc=encounter(diagnoses=(diagnosis["id"],))
    )


# The complete chart and the complete order pass every rule: each rule's pass fixtures on them.
ON_THE_COMPLETE_CHART = [
    ("DOC001", "pass_snomed_im", "IM route coded in SNOMED CT 78421000"),
    ("DOC002", "pass_v2_site_rg", "site coded in HL7 v2 table 0163 (RG)"),
    ("DOC003", "pass_lot_recorded", "contained Medication with batch.lotNumber"),
    ("DOC004", "pass_expiration_recorded", "batch.expirationDate recorded"),
    ("DOC005", "pass_not_expired", "expires months after the administration"),
    ("DOC006", "pass_ndc_present", "NDC and RxNorm on the contained Medication"),
    ("DOC007", "pass_hyphenated_4_4_2", "NDC 0409-7332-01 (10 digits, 4-4-2)"),
    ("DOC008", "pass_reason_reference", "reasonReference to an ICD-10-CM Condition"),
    ("DOC009", "pass_icd10cm_condition", "linked Condition coded ICD-10-CM and SNOMED CT"),
    ("DOC010", "pass_dose_ucum", "dosage.dose 1 g (UCUM)"),
    ("DOC011", "pass_practitioner_performer", "performer.actor is a Practitioner"),
    ("DOC012", "pass_effective_datetime", "effectiveDateTime recorded"),
    ("DOC013", "pass_request_linked", "request links the MedicationRequest"),
    ("DOC014", "pass_contained_medication", "medicationReference to a contained Medication"),
]
ON_THE_COMPLETE_ORDER = [
    ("DOC002", "pass_order_sign_not_checked", "orders carry no site: DOC002 does not apply"),
    ("DOC009", "pass_order_icd10cm", "order-sign: linked Condition coded in ICD-10-CM"),
    ("DOC010", "pass_order_dose", "order-sign: doseAndRate.doseQuantity 1 g"),
    ("DOC014", "pass_order_coded_drug", "order-sign: medicationCodeableConcept in RxNorm/NDC"),
]
for _rule, _name, _description in ON_THE_COMPLETE_CHART:
    fixture(_rule, _name, _description)(lambda name: request(CHARTING, name, [administration()]))
for _rule, _name, _description in ON_THE_COMPLETE_ORDER:
    fixture(_rule, _name, _description)(lambda name: request(ORDER_SIGN, name, [order()]))


# DOC001 route
@fixture("DOC001", "pass_v3_sq_enoxaparin", "SC enoxaparin, route coded HL7 v3 SQ")
def _(name: str) -> Json:
    med = medication(ENOXAPARIN, form=FORM_INJECTION_SOLUTION, lot="7E2K41", expiration="2027-01")
    ma = administration(
        "ma-enoxaparin-1",
        med=med,
        route=ROUTE_SQ_V3,
        site=SITE_ABDOMEN_SNOMED,
        amount=dose(40, "mg"),
        dosage_text="Enoxaparin 40 mg SC daily",
    )
    return request(DISCHARGE, name, [ma])


@fixture(
    "DOC001",
    "pass_oral_tablet_without_route",
    "an oral tablet charted without a route is not an injection: no card",
)
def _(name: str) -> Json:
    med = medication(
        {
            "coding": [coding(RXNORM, "198440", "Acetaminophen 500 MG Oral Tablet")],
            "text": "Acetaminophen 500 mg tablet",
        },
        form={"coding": [coding(SNOMED, "385055001", "Tablet")]},
    )
    ma = administration(
        "ma-acetaminophen-1",
        med=med,
        route=None,
        site=None,
        amount=dose(1000, "mg"),
        dosage_text="Acetaminophen 1000 mg PO once",
    )
    return request(CHARTING, name, [ma])


@fixture("DOC001", "pass_order_v3_im", "order-sign: the order's route coded HL7 v3 IM")
def _(name: str) -> Json:
    return request(ORDER_SIGN, name, [order(route=ROUTE_IM_V3)])


@fixture("DOC001", "fail_text_only_route", 'route charted as text only: "IM"')
def _(name: str) -> Json:
    return request(CHARTING, name, [administration(route={"text": "IM"})])


@fixture(
    "DOC001",
    "fail_body_site_in_route",
    "the route carries a body-site code (v2-0163 LD, left deltoid)",
)
def _(name: str) -> Json:
    ma = administration(
        "ma-b12-1",
        med=medication(CYANOCOBALAMIN, form=FORM_INJECTION_SOLUTION, expiration="2027-09-30"),
        route={"coding": [coding(V2_SITE, "LD", "Left Deltoid")]},
        site=None,
        amount=dose(1000, "ug"),
        dosage_text="Cyanocobalamin 1000 mcg IM monthly",
        reason_reference="cond-d510",
    )
    return _given_for(CHARTING, name, ma, _b12_condition())


@fixture("DOC001", "fail_route_missing", "injectable charted at discharge with no route")
def _(name: str) -> Json:
    return request(DISCHARGE, name, [administration(route=None)])


@fixture("DOC001", "fail_order_route_missing", "order-sign: injection order without a route")
def _(name: str) -> Json:
    return request(ORDER_SIGN, name, [order(route=None)])


# DOC002 site
@fixture("DOC002", "pass_snomed_site", "site coded in SNOMED CT (left upper arm)")
def _(name: str) -> Json:
    return request(DISCHARGE, name, [administration(site=SITE_LEFT_UPPER_ARM_SNOMED)])


@fixture(
    "DOC002", "pass_iv_push_without_site", "IV push (HL7 v3 IVPUSH) into a line: no site asked"
)
def _(name: str) -> Json:
    ma = administration(
        route={"coding": [coding(V3_ROUTE, "IVPUSH", "Injection, intravenous, push")]},
        site=None,
        dosage_text="Ceftriaxone 1 g IV push over 4 minutes",
    )
    return request(CHARTING, name, [ma])


@fixture("DOC002", "fail_site_missing", "IM injection charted without a site")
def _(name: str) -> Json:
    return request(CHARTING, name, [administration(site=None)])


@fixture("DOC002", "fail_site_missing_at_discharge", "discharge: SC injection without a site")
def _(name: str) -> Json:
    med = medication(ENOXAPARIN, form=FORM_INJECTION_SOLUTION, lot="7E2K41")
    ma = administration(
        "ma-enoxaparin-1",
        med=med,
        route=ROUTE_SC_SNOMED,
        site=None,
        amount=dose(40, "mg"),
        dosage_text="Enoxaparin 40 mg SC daily",
    )
    return request(DISCHARGE, name, [ma])


# DOC003 lot
@fixture(
    "DOC003",
    "pass_referenced_medication_with_lot",
    "discharge: Medication referenced, prefetched as an include, with its lot",
)
def _(name: str) -> Json:
    med = medication(mid="med-ceftriaxone-c2408a1")
    ma = administration()
    ma.pop("contained")
    ma["medicationReference"] = {"reference": f"Medication/{med['id']}"}
    return request(DISCHARGE, name, [ma], includes=[med])


@fixture("DOC003", "fail_lot_missing", "batch has an expiration date but no lot number")
def _(name: str) -> Json:
    return request(CHARTING, name, [administration(med=medication(lot=None))])


@fixture("DOC003", "fail_vaccine_lot_missing", "influenza vaccine without a lot (critical)")
def _(name: str) -> Json:
    med = medication(FLU_VACCINE, form=FORM_INJECTION_SOLUTION, lot=None)
    ma = administration(
        "ma-flu-1",
        med=med,
        site=SITE_LD,
        amount=dose(0.5, "mL"),
        dosage_text="Influenza vaccine 0.5 mL IM",
        reason_reference="cond-z23",
    )
    immunization = condition("cond-z23", ("Z23", "Encounter for immunization"), None, "Flu shot")
    return _given_for(DISCHARGE, name, ma, immunization)


# DOC004 expiration
@fixture("DOC004", "pass_expiration_year_month", "expiration charted as year and month")
def _(name: str) -> Json:
    return request(DISCHARGE, name, [administration(med=medication(expiration="2027-06"))])


@fixture("DOC004", "fail_expiration_missing", "batch has a lot but no expiration date")
def _(name: str) -> Json:
    return request(CHARTING, name, [administration(med=medication(expiration=None))])


@fixture("DOC004", "fail_no_batch_at_discharge", "discharge: Medication with no batch at all")
def _(name: str) -> Json:
    med = medication(lot=None, expiration=None)
    return request(DISCHARGE, name, [administration(med=med)])


# DOC005 expired product
@fixture("DOC005", "pass_expires_same_day", "given on the product's last valid day")
def _(name: str) -> Json:
    return request(DISCHARGE, name, [administration(med=medication(expiration="2026-11-24"))])


@fixture(
    "DOC005",
    "pass_year_month_expiry_end_of_month",
    "expiry 2026-11 (valid through 30 November), given 24 November",
)
def _(name: str) -> Json:
    return request(CHARTING, name, [administration(med=medication(expiration="2026-11"))])


@fixture("DOC005", "fail_expired_before_given", "expired 2026-10-31, given 2026-11-24")
def _(name: str) -> Json:
    return request(CHARTING, name, [administration(med=medication(expiration="2026-10-31"))])


@fixture("DOC005", "fail_year_month_expiry_passed", "discharge: expiry 2026-10, given 2026-11-24")
def _(name: str) -> Json:
    return request(DISCHARGE, name, [administration(med=medication(expiration="2026-10"))])


# DOC006 NDC missing
@fixture("DOC006", "fail_rxnorm_only", "drug coded in RxNorm only, no NDC")
def _(name: str) -> Json:
    code = {"coding": [CEFTRIAXONE["coding"][1]], "text": CEFTRIAXONE["text"]}
    return request(CHARTING, name, [administration(med=medication(code))])


@fixture("DOC006", "fail_medicaid_no_ndc", "Medicaid patient, drug without NDC (critical)")
def _(name: str) -> Json:
    code = {"coding": [CEFTRIAXONE["coding"][1]], "text": CEFTRIAXONE["text"]}
    return request(
        DISCHARGE,
        name,
        [administration(med=medication(code))],
        cov=coverage(("2", "MEDICAID")),
    )


# DOC007 NDC malformed
@fixture("DOC007", "pass_11_digit_ndc", "NDC 00409733201 (11 digits, the claim form)")
def _(name: str) -> Json:
    code = copy.deepcopy(CEFTRIAXONE)
    code["coding"][0]["code"] = "00409733201"
    return request(DISCHARGE, name, [administration(med=medication(code))])


@fixture("DOC007", "pass_hyphenated_5_3_2", "NDC 50242-040-62 (10 digits, 5-3-2): omalizumab SC")
def _(name: str) -> Json:
    med = medication(
        {
            "coding": [coding(NDC, "50242-040-62", "Xolair (omalizumab) 150 mg for injection")],
            "text": "Omalizumab 150 mg for injection",
        },
        lot="3193471",
        expiration="2027-02-28",
    )
    ma = administration(
        "ma-omalizumab-1",
        med=med,
        route=ROUTE_SC_SNOMED,
        site=SITE_LEFT_UPPER_ARM_SNOMED,
        amount=dose(150, "mg"),
        dosage_text="Omalizumab 150 mg SC every 4 weeks",
        reason_reference="cond-j4550",
    )
    asthma = condition(
        "cond-j4550",
        ("J45.50", "Severe persistent asthma, uncomplicated"),
        ("370221004", "Severe asthma"),
        "Severe persistent allergic asthma",
    )
    return _given_for(CHARTING, name, ma, asthma)


@fixture("DOC007", "fail_unhyphenated_10_digit_ndc", "NDC 0409733201: 10 digits without hyphens")
def _(name: str) -> Json:
    code = copy.deepcopy(CEFTRIAXONE)
    code["coding"][0]["code"] = "0409733201"
    return request(CHARTING, name, [administration(med=medication(code))])


@fixture("DOC007", "fail_ndc_wrong_segments", "discharge: NDC 409-7332-01 (3-4-2)")
def _(name: str) -> Json:
    code = copy.deepcopy(CEFTRIAXONE)
    code["coding"][0]["code"] = "409-7332-01"
    return request(DISCHARGE, name, [administration(med=medication(code))])


# DOC008 diagnosis linked
@fixture(
    "DOC008",
    "pass_encounter_diagnosis",
    "no reason on the administration; Encounter.diagnosis carries it",
)
def _(name: str) -> Json:
    return request(DISCHARGE, name, [administration(reason_reference=None)])


@fixture("DOC008", "pass_order_reason_code", "order-sign: indication in reasonCode (ICD-10-CM)")
def _(name: str) -> Json:
    reason = {"coding": [coding(ICD10CM, "J18.9", "Pneumonia, unspecified organism")]}
    ord_ = order(reason_reference=None, reason_code=reason)
    return request(ORDER_SIGN, name, [ord_], conditions=[], enc=encounter(diagnoses=()))


@fixture(
    "DOC008",
    "fail_no_diagnosis",
    "no reason, no Encounter.diagnosis, no encounter Conditions",
)
def _(name: str) -> Json:
    return request(
        CHARTING,
        name,
        [administration(reason_reference=None)],
        conditions=[],
        enc=encounter(diagnoses=()),
    )


@fixture("DOC008", "fail_order_without_indication", "order-sign: no indication anywhere")
def _(name: str) -> Json:
    return request(
        ORDER_SIGN,
        name,
        [order(reason_reference=None)],
        conditions=[],
        enc=encounter(diagnoses=()),
    )


# DOC009 ICD-10-CM
@fixture("DOC009", "fail_snomed_only_condition", "linked Condition coded in SNOMED CT only")
def _(name: str) -> Json:
    cond = condition(icd=None)
    return request(CHARTING, name, [administration()], conditions=[cond])


@fixture(
    "DOC009",
    "fail_order_snomed_reason_code",
    "order-sign: reasonCode in SNOMED CT only",
)
def _(name: str) -> Json:
    reason = {"coding": [coding(SNOMED, "233604007", "Pneumonia")], "text": "Pneumonia"}
    return request(ORDER_SIGN, name, [order(reason_reference=None, reason_code=reason)])


# DOC010 dose
@fixture("DOC010", "fail_dose_missing", "discharge: dosage with route and site but no dose")
def _(name: str) -> Json:
    return request(DISCHARGE, name, [administration(amount={})])


@fixture("DOC010", "fail_order_dose_missing", "order-sign: no doseQuantity")
def _(name: str) -> Json:
    return request(ORDER_SIGN, name, [order(amount={})])


# DOC011 performer
@fixture("DOC011", "fail_no_performer", "no performer recorded")
def _(name: str) -> Json:
    return request(CHARTING, name, [_without(administration(), "performer")])


@fixture("DOC011", "fail_no_performer_at_discharge", "discharge: no performer recorded")
def _(name: str) -> Json:
    return request(DISCHARGE, name, [_without(administration(), "performer")])


# DOC012 time
@fixture("DOC012", "pass_effective_period", "effectivePeriod recorded instead")
def _(name: str) -> Json:
    ma = administration(effective=None)
    ma["effectivePeriod"] = {
        "start": "2026-11-24T10:15:00-05:00",
        "end": "2026-11-24T10:16:00-05:00",
    }
    return request(DISCHARGE, name, [ma])


@fixture("DOC012", "fail_no_effective_time", "no effective[x] at all")
def _(name: str) -> Json:
    return request(CHARTING, name, [administration(effective=None)])


# DOC013 order link
@fixture("DOC013", "fail_no_request", "not linked to an order")
def _(name: str) -> Json:
    return request(CHARTING, name, [_without(administration(), "request")])


@fixture("DOC013", "fail_no_request_at_discharge", "discharge: not linked to an order")
def _(name: str) -> Json:
    return request(DISCHARGE, name, [_without(administration(), "request")])


# DOC014 drug identified
@fixture(
    "DOC014",
    "fail_medication_reference_missing",
    "medicationReference names a Medication that is in neither the resource nor the Bundle",
)
def _(name: str) -> Json:
    ma = administration()
    ma.pop("contained")
    ma["medicationReference"] = {"reference": "Medication/med-9931"}
    return request(CHARTING, name, [ma])


@fixture("DOC014", "fail_no_medication", "discharge: no medication[x] at all")
def _(name: str) -> Json:
    ma = administration()
    ma.pop("contained")
    ma.pop("medicationReference")
    return request(DISCHARGE, name, [ma])


@fixture(
    "DOC014",
    "fail_order_contained_medication_missing",
    "order-sign: medicationReference #med1 but nothing contained",
)
def _(name: str) -> Json:
    ord_ = order(drug=None)
    ord_["medicationReference"] = {"reference": "#med1"}
    return request(ORDER_SIGN, name, [ord_])


# --- golden requests (fixtures/golden/<hook>/<name>.request.json) -------------------------
GOLDEN: dict[str, tuple[str, Builder]] = {}


def golden(hook: str, name: str) -> Callable[[Builder], Builder]:
    def decorate(build: Builder) -> Builder:
        GOLDEN[f"{hook}/{name}"] = (hook, build)
        return build

    return decorate


def _b12(aid: str = "ma-b12-1", **changes: Any) -> Json:
    med = medication(
        CYANOCOBALAMIN,
        mid="med-b12",
        form=FORM_INJECTION_SOLUTION,
        lot=changes.pop("lot", "B12K7730"),
        expiration="2027-09-30",
    )
    options: dict[str, Any] = {
        "med": med,
        "site": SITE_LD,
        "amount": dose(1000, "ug"),
        "dosage_text": "Cyanocobalamin 1000 mcg IM",
        "reason_reference": "cond-d510",
        "effective": "2026-11-24T10:22:00-05:00",
    }
    options.update(changes)
    return administration(aid, **options)


@golden(CHARTING, "complete_im_ceftriaxone")
def _(name: str) -> Json:
    return request(CHARTING, name, [administration()])


@golden(CHARTING, "two_injections_one_incomplete")
def _(name: str) -> Json:
    b12 = _b12(route={"text": "IM"}, site=None, lot=None)
    return request(
        CHARTING,
        name,
        [administration(), b12],
        conditions=[condition(), _b12_condition()],
        enc=encounter(diagnoses=("cond-j189", "cond-d510")),
    )


@golden(DISCHARGE, "mixed_visit")
def _(name: str) -> Json:
    enoxaparin = administration(
        "ma-enoxaparin-1",
        med=medication(ENOXAPARIN, mid="med-enox", form=FORM_INJECTION_SOLUTION, lot="7E2K41"),
        route=ROUTE_SC_SNOMED,
        site=None,
        amount=dose(40, "mg"),
        dosage_text="Enoxaparin 40 mg SC",
        effective="2026-11-24T10:40:00-05:00",
    )
    acetaminophen = administration(
        "ma-acetaminophen-1",
        med=medication(
            {
                "coding": [coding(RXNORM, "198440", "Acetaminophen 500 MG Oral Tablet")],
                "text": "Acetaminophen 500 mg tablet",
            },
            mid="med-apap",
            form={"coding": [coding(SNOMED, "385055001", "Tablet")]},
        ),
        route=None,
        site=None,
        amount=dose(1000, "mg"),
        dosage_text="Acetaminophen 1000 mg PO",
        effective="2026-11-24T10:05:00-05:00",
    )
    refused = _b12("ma-b12-2", effective="2026-11-24T10:50:00-05:00")
    refused["status"] = "not-done"
    refused["statusReason"] = [
        {"coding": [coding(SNOMED, "182895007", "Drug declined by patient")]}
    ]
    return request(
        DISCHARGE,
        name,
        [administration(), enoxaparin, acetaminophen, refused],
        conditions=[condition(), _b12_condition()],
        enc=encounter(diagnoses=("cond-j189", "cond-d510"), finished=True),
    )


@golden(DISCHARGE, "oral_only_no_cards")
def _(name: str) -> Json:
    acetaminophen = administration(
        "ma-acetaminophen-1",
        med=medication(
            {
                "coding": [coding(RXNORM, "198440", "Acetaminophen 500 MG Oral Tablet")],
                "text": "Acetaminophen 500 mg tablet",
            },
            form={"coding": [coding(SNOMED, "385055001", "Tablet")]},
        ),
        route={"coding": [coding(SNOMED, "26643006", "Oral route")]},
        site=None,
        amount=dose(1000, "mg"),
        dosage_text="Acetaminophen 1000 mg PO",
    )
    return request(DISCHARGE, name, [acetaminophen])


@golden(ORDER_SIGN, "complete_order")
def _(name: str) -> Json:
    return request(ORDER_SIGN, name, [order()])


@golden(ORDER_SIGN, "order_without_route_dose_or_indication")
def _(name: str) -> Json:
    return request(
        ORDER_SIGN,
        name,
        [order(route=None, amount={}, reason_reference=None)],
        conditions=[],
        enc=encounter(diagnoses=()),
    )


def _prefetch_no_orders(body: Json) -> None:
    """The encounter's orders prefetched, none (as services.json asks), before the patient."""
    patient = body["prefetch"].pop("patient")
    body["prefetch"]["medicationRequests"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 0,
        "entry": [],
    }
    body["prefetch"]["patient"] = patient


def write_golden_requests(root: Path = ROOT / "fixtures" / "golden") -> list[Path]:
    written = []
    for key in sorted(GOLDEN):
        hook, build = GOLDEN[key]
        path = root / f"{key}.request.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = build(f"golden/{key}")
        if hook != ORDER_SIGN:
            _prefetch_no_orders(body)
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", "utf-8")
        written.append(path)
    return written


# --- writing -------------------------------------------------------------------------------
def write_all(root: Path = RULES_DIR) -> list[Path]:
    written = []
    lines = [
        "# Per-rule fixtures (documentation rules)",
        "",
        "Whole CDS Hooks requests, one defect (`fail_*`) or one variation (`pass_*`) each.",
        "Built by `tests/fixture_factory.py`; checked by `tests/test_rule_fixtures.py`.",
        "Try one: `.venv/bin/injection-cds check fixtures/rules/DOC001/fail_text_only_route.json`",
        "",
        "| rule | fixture | hook | what it shows |",
        "|---|---|---|---|",
    ]
    for rule in sorted(FIXTURES):
        folder = root / rule
        folder.mkdir(parents=True, exist_ok=True)
        for name in sorted(FIXTURES[rule]):
            description, build = FIXTURES[rule][name]
            body = build(f"{rule}/{name}")
            path = folder / f"{name}.json"
            path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", "utf-8")
            written.append(path)
            lines.append(f"| {rule} | `{name}` | `{body['hook']}` | {description} |")
    (root / "README.md").write_text("\n".join(lines) + "\n", "utf-8")
    return written


if __name__ == "__main__":
    paths = write_all() + write_golden_requests()
    sys.stdout.write(f"wrote {len(paths)} fixtures under {RULES_DIR}\n")
