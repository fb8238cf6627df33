"""Where and when billing applies: inpatient stays (DRG) and orders not yet given."""

import json
from pathlib import Path

from injection_cds.pipeline import call_service
from injection_cds.rules.context import RuleContext

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules" / "BIL005"


def _codes(name: str) -> dict[str, dict[str, object]]:
    body = json.loads((FIXTURES / name).read_text("utf-8"))
    service = {
        "encounter-discharge": "injection-discharge",
        "order-sign": "injection-order-sign",
    }.get(body["hook"], "injection-charting")
    result = call_service(service, body, ctx=RuleContext(), base_url="https://cds.example.org")
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
        "injection-order-sign", body, ctx=RuleContext(), base_url="https://cds.example.org"
    )
    card = next(c for c in result.cards if c["source"]["topic"]["code"] == "BIL001")
    assert "suggestions" not in card and "selectionBehavior" not in card
    assert card["detail"].startswith("- ") and "**Preview**" in card["detail"]
    assert card["extension"]["org.injectioncds.lines"]
