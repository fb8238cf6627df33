"""Where and when billing applies: inpatient stays (DRG) and orders not yet given."""

import json
from pathlib import Path

from injection_cds.core.context import RuleContext
from injection_cds.protocol.audience import CardPolicy
from injection_cds.protocol.pipeline import call_service

# The billing review's view of each request: every finding, one card per rule.
BILLING_REVIEW = CardPolicy.everywhere("billing")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules" / "BIL005"


def _codes(name: str) -> dict[str, dict[str, object]]:
    body = json.loads((FIXTURES / name).read_text("utf-8"))
    service = {
        "encounter-discharge": "injection-discharge",
        "order-sign": "injection-order-sign",
    }.get(body["hook"], "injection-charting")
    result = call_service(
        service,
        body,
        ctx=RuleContext(),
        base_url="https://cds.example.org",
        policy=BILLING_REVIEW,
    )
    return {card["source"]["topic"]["code"]: card for card in result.cards}


def test_inpatient_stay_lists_no_charge_lines_and_says_why() -> None:
    cards = _codes("fail_inpatient_stay.json")
    assert "BIL001" not in cards and "BIL012" not in cards
    assert "inpatient stay" in str(cards["BIL005"]["detail"])


def test_hospital_outpatient_still_lists_the_lines_for_the_facility_claim() -> None:
    cards = _codes("fail_hospital_outpatient.json")
    assert "BIL001" in cards
    assert "hospital reports them on its claim" in str(cards["BIL005"]["detail"])


def test_order_sign_previews_the_lines_without_creating_charges() -> None:
    """An order not yet given must not be charged: the BIL001 card has no suggestion."""
    golden = FIXTURES.parents[1] / "golden" / "order-sign" / "complete_order.request.json"
    body = json.loads(golden.read_text("utf-8"))
    result = call_service(
        "injection-order-sign",
        body,
        ctx=RuleContext(),
        base_url="https://cds.example.org",
        policy=BILLING_REVIEW,
    )
    card = next(c for c in result.cards if c["source"]["topic"]["code"] == "BIL001")
    assert "suggestions" not in card and "selectionBehavior" not in card
    assert card["detail"].startswith("- ") and "**Preview**" in card["detail"]
    assert card["extension"]["org.injectioncds.lines"]


def _bil001(body: dict[str, object]) -> dict[str, object]:
    result = call_service(
        "injection-charting",
        body,
        ctx=RuleContext(),
        base_url="https://cds.example.org",
        policy=BILLING_REVIEW,
    )
    return next(c for c in result.cards if c["source"]["topic"]["code"] == "BIL001")


def test_charges_already_created_are_not_suggested_again() -> None:
    """Accepting the suggestion, then calling again, must not offer the same charges twice."""
    example = FIXTURES.parents[1] / "examples" / "charting-ceftriaxone.json"
    body = json.loads(example.read_text("utf-8"))
    first = _bil001(body)
    actions = first["suggestions"][0]["actions"]  # type: ignore[index]
    created = [dict(action["resource"], id=f"ci-{n}") for n, action in enumerate(actions)]
    assert len(created) == 2  # 96372 and J0696

    body["prefetch"]["chargeItems"] = {  # the EHR now has the first one
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": created[0]}],
    }
    partly = _bil001(body)
    remaining = partly["suggestions"][0]  # type: ignore[index]
    assert [a["resource"]["code"]["coding"][0]["code"] for a in remaining["actions"]] == ["J0696"]
    assert "(1 already charged)" in remaining["label"]

    body["prefetch"]["chargeItems"]["entry"] = [{"resource": item} for item in created]
    done = _bil001(body)
    assert "suggestions" not in done
    assert "already has a ChargeItem" in str(done["detail"])
    assert done["extension"]["org.injectioncds.lines"]  # type: ignore[index]


def test_hospital_short_stay_is_a_facility_setting() -> None:
    """Encounter.class SS (hospital short stay) is hospital outpatient: POS 22, BIL005."""
    body = json.loads((FIXTURES / "fail_inpatient_stay.json").read_text("utf-8"))
    body["prefetch"]["encounter"]["class"]["code"] = "SS"
    result = call_service(
        "injection-charting",
        body,
        ctx=RuleContext(),
        base_url="https://cds.example.org",
        policy=BILLING_REVIEW,
    )
    assert result.visit.encounter is not None
    assert result.visit.encounter.place_of_service == "22"
    cards = {c["source"]["topic"]["code"]: c for c in result.cards}
    assert "hospital reports them on its claim" in str(cards["BIL005"]["detail"])
