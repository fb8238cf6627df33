"""Cards a clinician acts on: audience per hook, one root cause per card, folding, fixes.

Each test changes one thing in a real charting request (``fixtures/examples``) and runs it
through the pipeline, as the HTTP service does.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from injection_cds.config import ConfigError, load_config
from injection_cds.core.context import RuleContext
from injection_cds.protocol.audience import CardPolicy, policy_from_config
from injection_cds.protocol.fixes import certain_ndc11
from injection_cds.protocol.pipeline import CallResult, call_service
from injection_cds.rules.registry import charted

try:  # tests/ is on sys.path, or tests is a package (tests/__init__.py)
    from cds_test_support import app_for
except ImportError:  # pragma: no cover
    from tests.cds_test_support import app_for

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "examples" / "charting-ceftriaxone.json"
MEDICAID = ROOT / "fixtures" / "golden" / "billing" / "medicaid_without_ndc.json"
CHARTING = "injection-charting"
BASE = "https://cds.example.org"
FINDINGS = "org.injectioncds.findings"
BILLING_REVIEW = CardPolicy.everywhere("billing")
Json = dict[str, Any]


def request(path: Path = EXAMPLE) -> Json:
    body: Json = json.loads(path.read_text("utf-8"))
    return body


def administration(body: Json) -> Json:
    resource: Json = body["context"]["medicationAdministrations"]["entry"][0]["resource"]
    return resource


def run(body: Json, policy: CardPolicy | None = None) -> CallResult:
    return call_service(CHARTING, body, ctx=RuleContext(), base_url=BASE, policy=policy)


def rules(card: Json) -> list[str]:
    return [f["rule"] for f in card["extension"][FINDINGS]]


def shown(result: CallResult) -> set[str]:
    return {rule for card in result.cards for rule in rules(card)}


# --- audience --------------------------------------------------------------------------------
def test_charting_shows_what_the_clinician_can_fix_now() -> None:
    result = run(request())
    fired = {f.rule for f in result.findings}
    assert "BIL001" in fired  # the billing summary is computed ...
    assert shown(result) == {"DOC001", "DOC002", "DOC004", "DOC013"}  # ... not shown here
    review = run(request(), BILLING_REVIEW)
    assert shown(review) == fired  # the billing review shows every finding


def test_a_billing_finding_the_payer_needs_now_is_shown_at_the_bedside() -> None:
    body = request(MEDICAID)
    assert "DOC006" in shown(run(body))  # Medicaid: the NDC must be read off the package now
    commercial = copy.deepcopy(body)
    commercial["prefetch"].pop("coverage")
    result = run(commercial)
    assert "DOC006" in {f.rule for f in result.findings}
    assert "DOC006" not in shown(result)  # left to the billing review


def test_audience_is_configured_per_hook_in_the_cards_section(tmp_path: Path) -> None:
    config = load_config({"cards": {"audience": {"injection-charting": "billing"}}}, environ={})
    policy = policy_from_config(config)
    assert policy.audience_for(CHARTING, "org.injectioncds.medicationadministration-sign") == (
        "billing"
    )
    assert policy.audience_for("injection-order-sign", "order-sign") == "order"
    assert "BIL001" in shown(run(request(), policy))
    with pytest.raises(ConfigError, match="cards.audience"):
        load_config({"cards": {"audience": {"order-sign": "everyone"}}}, environ={})
    with app_for(tmp_path, cards={"audience": {"injection-charting": "billing"}}) as app:
        answer = app.test_client().post(f"/cds-services/{CHARTING}", json=request()).get_json()
    assert "BIL001" in {r for card in answer["cards"] for r in rules(card)}


# --- one root cause, one card --------------------------------------------------------------
def test_an_unidentified_drug_gets_doc014_only() -> None:
    body = request()
    resource = administration(body)
    resource["medicationReference"] = {"reference": "Medication/not-sent"}
    resource.pop("contained")
    result = run(body, BILLING_REVIEW)
    fired = {f.rule for f in result.findings}
    assert "DOC014" in fired
    assert not fired & {"DOC003", "DOC004", "DOC006", "DOC007"}


def test_no_site_is_asked_of_a_drug_given_only_iv() -> None:
    body = request()
    resource = administration(body)
    del resource["dosage"]["route"]
    medication = resource["contained"][0]
    medication["code"] = {"text": "Cisplatin 50 MG Injection"}
    fired = {f.rule for f in run(body, BILLING_REVIEW).findings}
    assert "DOC001" in fired  # the route is still to be charted
    assert "DOC002" not in fired
    medication["code"] = {"text": "Ceftriaxone 1 g injection"}
    assert "DOC002" in {f.rule for f in run(body, BILLING_REVIEW).findings}


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r["contained"][0].__setitem__("code", {"text": "Heparin Lock Flush 100 unit/mL"}),
        lambda r: r["dosage"].__setitem__("method", {"text": "Not Given"}),
        lambda r: r.__setitem__("status", "not-done"),
    ],
    ids=["flush", "method-not-given", "not-done"],
)
def test_flushes_and_doses_not_given_get_no_card_at_charting(change: Any) -> None:
    body = request()
    change(administration(body))
    result = run(body)
    assert result.cards == []
    assert not {f.rule for f in result.findings if f.rule.startswith("DOC")}


# --- folding ---------------------------------------------------------------------------------
def test_one_administration_one_card_per_urgency_at_charting() -> None:
    body = request()
    administration(body)["contained"][0].pop("batch", None)  # no lot, no expiration either
    cards = run(body).cards
    by_indicator = {card["indicator"]: card for card in cards}
    assert len(cards) == len(by_indicator) == 3
    assert rules(by_indicator["critical"]) == ["DOC001"]
    assert rules(by_indicator["warning"]) == ["DOC002", "DOC003"]
    assert rules(by_indicator["info"]) == ["DOC004", "DOC013"]
    warning = by_indicator["warning"]
    assert warning["source"]["topic"]["code"] == "DOC002"  # the leading rule
    assert warning["summary"] == "To complete: injection site missing; lot number missing"
    assert [link["url"] for link in warning["links"]] == [
        f"{BASE}/rules/DOC002",
        f"{BASE}/rules/DOC003",
    ]
    assert warning["overrideReasons"]
    assert "overrideReasons" not in by_indicator["info"]


def test_billing_review_keeps_one_card_per_rule_and_folds_only_info_items() -> None:
    body = request()
    administration(body)["contained"][0].pop("batch", None)
    cards = run(body, BILLING_REVIEW).cards
    grouped = [rules(card) for card in cards]
    assert ["DOC002"] in grouped and ["DOC003"] in grouped
    assert ["DOC004", "DOC013"] in grouped


def test_administrations_with_the_same_items_share_a_card() -> None:
    body = request()
    bundle = body["context"]["medicationAdministrations"]
    twin = copy.deepcopy(bundle["entry"][0])
    twin["resource"]["id"] = "ma-twin"
    bundle["entry"].append(twin)
    cards = run(body).cards
    assert len(cards) == 3
    for card in cards:
        resources = {f["resource"] for f in card["extension"][FINDINGS]}
        assert len(resources) == 2
    assert len({card["uuid"] for card in cards}) == 3


# --- charted text is never markup --------------------------------------------------------
def test_charted_text_is_escaped_in_card_markdown() -> None:
    body = request()
    resource = administration(body)
    resource["dosage"]["route"] = {"text": "<script>alert(1)</script> [x](javascript:y)"}
    resource["contained"][0]["code"]["text"] = "**Ceftriaxone** <img src=x onerror=y>\n# h"
    details = "\n".join(card["detail"] for card in run(body, BILLING_REVIEW).cards)
    assert "<script>" not in details and "<img" not in details
    assert "&lt;script&gt;" in details
    assert re.search(r"(?<!\\)\]\(", details) is None  # no markdown link: "]" is escaped
    assert "\\*\\*Ceftriaxone\\*\\*" in details  # the asterisks are text, not bold
    assert "\n# h" not in details  # no heading from a charted line break


def test_charted_drug_name_is_escaped_on_coding_family_cards() -> None:
    body = request()
    administration(body)["contained"][0]["code"] = {"text": "*Heparin* lock flush <img src=x>"}
    cards = run(body, BILLING_REVIEW).cards
    (flush,) = [c for c in cards if c["source"]["topic"]["code"] == "BIL017"]
    assert "<img" not in flush["detail"]
    assert "**\\*Heparin\\* lock flush &lt;img src=x&gt;**" in flush["detail"]


def test_charted_escapes_markdown_and_html() -> None:
    assert charted("a|b") == "a\\|b"
    assert charted("<b>&") == "&lt;b&gt;&amp;"
    assert charted("line\n# heading") == "line \\# heading"
    assert charted("Ceftriaxone 1 g (IM)") == "Ceftriaxone 1 g (IM)"


# --- suggestions that fix, accepted end to end ------------------------------------------------
def _accept(card: Json) -> Json:
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    assert action["type"] == "update"
    updated: Json = action["resource"]
    # what the EHR would store: valid FHIR R4 (the R4B models read R4 MedicationAdministration)
    get_fhir_model_class("MedicationAdministration").model_validate(updated)
    return updated


def test_text_route_gets_a_snomed_update_that_fixes_the_chart() -> None:
    body = request()
    (card,) = [c for c in run(body).cards if "DOC001" in rules(c)]
    updated = _accept(card)
    assert updated["dosage"]["route"] == {
        "coding": [
            {
                "system": "http://snomed.info/sct",
                "code": "78421000",
                "display": "Intramuscular route",
            }
        ],
        "text": "IM",
    }
    assert card["selectionBehavior"] == "at-most-one"
    administration(body).clear()
    administration(body).update(updated)
    assert "DOC001" not in {f.rule for f in run(body).findings}


def test_ndc_with_odd_separators_gets_its_11_digit_form() -> None:
    body = request()
    coding = administration(body)["contained"][0]["code"]["coding"][0]
    coding["code"] = "60505 0751 4"  # 5-4-1 with spaces for hyphens
    result = run(body, BILLING_REVIEW)
    (card,) = [c for c in result.cards if "DOC007" in rules(c)]
    updated = _accept(card)
    assert updated["contained"][0]["code"]["coding"][0]["code"] == "60505-0751-04"
    # the same update carries the route fix too: accepting either card gives one resource
    assert updated["dosage"]["route"]["coding"][0]["code"] == "78421000"
    (route_card,) = [c for c in result.cards if "DOC001" in rules(c)]
    assert _accept(route_card) == updated
    administration(body).clear()
    administration(body).update(updated)
    fired = {f.rule for f in run(body, BILLING_REVIEW).findings}
    assert not fired & {"DOC001", "DOC007"}


@pytest.mark.parametrize(
    ("charted_ndc", "expected"),
    [
        ("0409.7332.01", "00409733201"),
        ("50242\u2013040\u201362", "50242004062"),
        ("0409-7332-01", None),  # valid as charted: nothing to fix
        ("0002759701", None),  # unhyphenated 10 digits: ambiguous, never guessed
        ("0002-7597-001", None),  # digits off every pattern: not guessed
    ],
)
def test_certain_ndc11(charted_ndc: str, expected: str | None) -> None:
    assert certain_ndc11(charted_ndc) == expected


def test_no_update_is_offered_when_the_fix_is_not_certain() -> None:
    body = request()
    administration(body)["dosage"]["route"] = {"text": "into the arm"}
    (card,) = [c for c in run(body).cards if "DOC001" in rules(c)]
    assert "suggestions" not in card


def test_no_update_is_offered_for_a_resource_read_leniently() -> None:
    body = request()
    administration(body)["note"] = "a string where R4 wants Annotations"  # not read by rules
    result = run(body)
    assert result.response["extension"]  # read leniently, and said so
    (card,) = [c for c in result.cards if "DOC001" in rules(c)]
    assert "suggestions" not in card  # an update would drop what the client sent
