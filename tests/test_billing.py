"""Billing: unit arithmetic, per-rule fixtures, golden whole requests, ChargeItems."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cds_test_support import charting_visit
from fhir.resources.R4B.chargeitem import ChargeItem

from injection_cds.core import codes, units
from injection_cds.core.context import PayerProfile, RuleContext, RuleSettings
from injection_cds.core.facts import Quantity
from injection_cds.protocol.audience import CardPolicy
from injection_cds.protocol.pipeline import call_service
from injection_cds.reference.billing_config import context_from_config
from injection_cds.reference.catalog import DrugCatalog

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "fixtures" / "rules"
GOLDEN = ROOT / "fixtures" / "golden" / "billing"
DATA = ROOT / "tests" / "data"
BASE = "https://cds.example.org"


def _entry(hcpcs: str) -> Any:
    entry = DrugCatalog.shipped().by_hcpcs(hcpcs)
    assert entry is not None
    return entry


@pytest.mark.parametrize(
    ("hcpcs", "value", "unit", "expected"),
    [
        ("J0696", "1", "g", 4),  # ceftriaxone 1 g, per 250 mg
        ("J0696", "600", "mg", 3),  # rounded up
        ("J0696", "250", "mg", 1),
        ("J1885", "60", "mg", 4),  # ketorolac per 15 mg
        ("J1885", "30", "mg", 2),
        ("J3420", "1000", "mcg", 1),  # B12 up to 1000 mcg
        ("J3420", "1000", "ug", 1),
        ("J3420", "100", "ug", 1),
        ("J3420", "1", "mg", 1),
        ("J0171", "0.3", "mg", 3),  # epinephrine per 0.1 mg
        ("J0171", "300", "mcg", 3),
        ("J2550", "25", "mg", 1),  # promethazine up to 50 mg
        ("J1815", "10", "[iU]", 2),  # insulin per 5 units
        ("J0725", "10000", "[USP'U]", 10),  # hCG per 1000 USP units
        ("J3301", "40", "mg", 4),
    ],
)
def test_units(hcpcs: str, value: str, unit: str, expected: int) -> None:
    result = units.billing_units(Quantity(Decimal(value), unit, unit), _entry(hcpcs))
    assert result.units == expected


def test_up_to_code_above_its_amount_counts_each_x_and_says_so() -> None:
    result = units.billing_units(Quantity(Decimal(75), "mg", "mg"), _entry("J2550"))
    assert result.units == 2
    assert result.note and "up to" in result.note


@pytest.mark.parametrize(
    "dose", [Quantity(Decimal(2), "mL", "mL"), Quantity(None, "mg", "mg"), None]
)
def test_units_not_computed_when_the_dose_does_not_convert(dose: Quantity | None) -> None:
    result = units.billing_units(dose, _entry("J0696"))
    assert result.units is None and result.note


BILLING_REVIEW = CardPolicy.everywhere("billing")


def _call(body: dict[str, Any], ctx: RuleContext) -> dict[str, Any]:
    # The billing review's view: every finding, one card per rule (charting shows the
    # clinician only what can be fixed in the chart now; tests/test_card_policy.py).
    return call_service(
        "injection-charting", body, ctx=ctx, base_url=BASE, policy=BILLING_REVIEW
    ).response


def _cards_by_rule(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["source"]["topic"]["code"]: c for c in response["cards"]}


def test_every_billing_rule_has_a_failing_and_a_passing_fixture() -> None:
    for number in range(1, 15):
        folder = RULES / f"BIL{number:03d}"
        assert list(folder.glob("fail_*.json")) and list(folder.glob("pass_*.json")), folder


def _lines(card: dict[str, Any]) -> list[dict[str, Any]]:
    return card["extension"]["org.injectioncds.lines"]


def _golden(name: str, ctx: RuleContext | None = None) -> dict[str, dict[str, Any]]:
    body = json.loads((GOLDEN / f"{name}.json").read_text())
    return _cards_by_rule(_call(body, ctx or RuleContext()))


def _finding_lines(name: str, rule: str) -> list[dict[str, Any]]:
    from injection_cds.core.pipeline import evaluate_visit

    visit = charting_visit(json.loads((GOLDEN / f"{name}.json").read_text()))
    found = [f for f in evaluate_visit(visit, RuleContext()).findings if f.rule == rule]
    assert found, rule
    return list(found[0].data["lines"])


def test_golden_two_im_injections() -> None:
    cards = _golden("two_im_injections")
    assert _lines(cards["BIL001"]) == [
        {
            "code": "96372",
            "system": codes.CPT,
            "units": 1,
            "claim": codes.CLAIM_PROFESSIONAL,
            "diagnoses": ["N39.0"],
        },
        {
            "code": "96372",
            "system": codes.CPT,
            "units": 1,
            "claim": codes.CLAIM_PROFESSIONAL,
            "modifiers": ["59"],
            "diagnoses": ["N39.0"],
        },
        {
            "code": "J0696",
            "system": codes.HCPCS,
            "units": 4,
            "claim": codes.CLAIM_PROFESSIONAL,
            "ndc": "60505075104",  # not in the crosswalk, no strength: no guessed N4 unit
            "diagnoses": ["N39.0"],
        },
        {
            "code": "J1885",
            "system": codes.HCPCS,
            "units": 4,
            "claim": codes.CLAIM_PROFESSIONAL,
            "ndc": "00409379501",  # crosswalk: one vial = 2 units (30 mg); 60 mg = 2 vials
            "ndcUnit": "UN",
            "ndcQuantity": 2,
            "diagnoses": ["N39.0"],
        },
    ]
    assert "BIL012" in cards
    assert len(cards["BIL001"]["suggestions"][0]["actions"]) == 4


def test_golden_two_im_injections_with_the_76_and_units_conventions() -> None:
    for convention, expected in (("76", [[], ["76"]]), ("units", [[]])):
        ctx = RuleContext(
            settings=RuleSettings(profiles={"default": PayerProfile(repeat_convention=convention)})
        )
        lines = [
            line
            for line in _lines(_golden("two_im_injections", ctx)["BIL001"])
            if line["code"] == "96372"
        ]
        assert [line.get("modifiers", []) for line in lines] == expected
        assert sum(line["units"] for line in lines) == 2


def test_golden_iv_push_plus_im() -> None:
    cards = _golden("iv_push_plus_im")
    assert [(ln["code"], ln["units"]) for ln in _lines(cards["BIL001"])] == [
        ("96372", 1),
        ("J0696", 2),
    ]
    assert [(ln["code"], ln["units"]) for ln in _finding_lines("iv_push_plus_im", "BIL002")] == [
        ("96374", 1),
        ("J1885", 2),
    ]


def test_golden_medicare_flu_shot() -> None:
    cards = _golden("medicare_flu_shot")
    assert "BIL001" not in cards
    assert cards["BIL003"]["indicator"] == "warning"
    assert [ln["code"] for ln in _finding_lines("medicare_flu_shot", "BIL003")] == [
        "G0008",
        "90688",
    ]


def test_golden_nurse_visit_99211() -> None:
    cards = _golden("nurse_visit_99211")
    assert cards["BIL004"]["indicator"] == "critical"
    assert [(ln["code"], ln["units"]) for ln in _lines(cards["BIL001"])] == [
        ("96372", 1),
        ("J3420", 1),
    ]
    assert _lines(cards["BIL001"])[1]["diagnoses"] == ["D51.0"]


def test_golden_telehealth() -> None:
    cards = _golden("telehealth")
    assert cards["BIL006"]["indicator"] == "critical"
    assert "BIL001" not in cards


def test_golden_hospital_outpatient() -> None:
    cards = _golden("hospital_outpatient")
    assert cards["BIL005"]["indicator"] == "warning"
    assert [(ln["code"], ln["units"]) for ln in _lines(cards["BIL001"])] == [
        ("96372", 1),
        ("J0696", 4),
    ]


def test_golden_medicaid_without_ndc() -> None:
    cards = _golden("medicaid_without_ndc")
    assert cards["DOC006"]["indicator"] == "critical"
    lines = _lines(cards["BIL001"])
    assert [(ln["code"], ln["units"]) for ln in lines] == [("96372", 1), ("J3420", 1)]
    assert all("ndc" not in line for line in lines)


@pytest.mark.parametrize(
    ("payer", "em", "expected"),
    [
        ("5", "99213", "99213 with 90471: modifier 25 on the E/M line"),  # commercial
        ("5", "99211", "99211 with 90471: modifier 25 on the E/M line"),
        ("1", "99211", "99211 with G0008: 99211 is bundled"),  # Medicare
        ("1", "99213", None),  # G0008 bundles only 99211: no 25 needed
    ],
)
def test_a_vaccine_at_a_visit_says_what_the_em_needs(
    payer: str, em: str, expected: str | None
) -> None:
    case = ROOT / "fixtures" / "coder" / "codes" / "medicare_flu_cpt_product_no_ndc.json"
    body = json.loads(case.read_text())["request"]
    body["prefetch"]["encounter"]["type"] = [{"coding": [{"system": codes.CPT, "code": em}]}]
    coverage = body["prefetch"]["coverage"]["entry"][0]["resource"]
    coverage["type"]["coding"][0]["code"] = payer
    cards = _cards_by_rule(_call(body, RuleContext()))
    if expected is None:
        assert "BIL004" not in cards
    else:
        assert expected in cards["BIL004"]["detail"]
        assert cards["BIL004"]["indicator"] == "warning"


@pytest.mark.parametrize(
    ("fixture", "rule", "code"),
    [
        (RULES / "BIL013" / "fail_allergen.json", "BIL013", "95115"),
        (RULES / "BIL029" / "fail_commercial_tubersol_ppd_placed.json", "BIL029", "86580"),
    ],
)
def test_allergen_and_skin_test_cards_carry_their_claim_lines(
    fixture: Path, rule: str, code: str
) -> None:
    # RULES.md: every card that proposes claim lines carries them in org.injectioncds.lines
    # (allergen immunotherapy included); a line only written in the text does not exist.
    cards = _cards_by_rule(_call(json.loads(fixture.read_text()), RuleContext()))
    assert [ln["code"] for ln in _lines(cards[rule])] == [code]
    assert "BIL001" not in cards and "BIL011" not in cards


def test_a_vaccine_with_its_product_code_and_no_ndc_is_not_the_unclassified_case() -> None:
    # Flu for Medicare coded CVX 150 + CPT 90686, no NDC: G0008 + 90686 bill without one,
    # so DOC006 is the ordinary warning, not the critical J3490 (NOC) stop.
    case = ROOT / "fixtures" / "coder" / "codes" / "medicare_flu_cpt_product_no_ndc.json"
    cards = _cards_by_rule(_call(json.loads(case.read_text())["request"], RuleContext()))
    assert cards["DOC006"]["indicator"] == "warning"
    assert "J3490" not in cards["DOC006"]["detail"]


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.json")))
def test_chargeitems_validate(name: str) -> None:
    cards = _golden(name)
    for card in cards.values():
        for suggestion in card.get("suggestions", []):
            for action in suggestion["actions"]:
                item = ChargeItem.model_validate(action["resource"])
                assert item.status == "billable"
                assert item.subject.reference == "Patient/pat-1001"
                assert item.context.reference == "Encounter/enc-5001"


def test_chargeitem_carries_modifiers_and_the_administration() -> None:
    card = _golden("two_im_injections")["BIL001"]
    items = [a["resource"] for a in card["suggestions"][0]["actions"]]
    second = items[1]
    assert second["extension"][0] == {
        "url": codes.CHARGEITEM_MODIFIER_EXTENSION,
        "valueCoding": {"system": codes.CPT, "code": "59"},
    }
    assert second["service"] == [{"reference": "MedicationAdministration/ma-7009"}]
    assert items[2]["quantity"] == {"value": 4}
    assert items[2]["productCodeableConcept"]["coding"][0]["code"] == "60505075104"


def test_estimate_in_detail_only_with_a_fee_schedule() -> None:
    assert "Estimate" not in _golden("two_im_injections")["BIL001"]["detail"]
    ctx = context_from_config(
        {
            "fee_schedules": {
                "test-schedule": {"path": str(DATA / "fee_schedule_sample.csv"), "year": 2026}
            },
            "profiles": {"default": {"fee_schedule": "test-schedule"}},
        }
    )
    detail = _golden("two_im_injections", ctx)["BIL001"]["detail"]
    # 2 × 96372 at 10.00 + J0696 × 4 at 1.50 + J1885 × 4 at 0.25 = 27.00
    assert "$27.00" in detail and "test-schedule" in detail and "2026" in detail
