"""Per-rule fixtures: ``fixtures/rules/<CODE>/fail_*.json`` fires the rule, ``pass_*`` does not.

Every fixture is a whole CDS Hooks request; it runs through the same pipeline as the HTTP
service. The ids read ``DOC003/fail_vaccine_lot_missing``. Billing rules (``BIL*``) use the
same layout; a rule directory that is still empty is simply not collected. A rule that
needs configuration to fire (a loaded MUE table, a payer profile) keeps it beside its
fixtures as ``fixtures/rules/<CODE>/config.toml``, read exactly as ``--config`` would be.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from injection_cds.config import load_config
from injection_cds.core.context import RuleContext
from injection_cds.protocol.audience import CardPolicy
from injection_cds.protocol.pipeline import call_service
from injection_cds.protocol.services import load_services
from injection_cds.reference.settings import rule_context_from_config
from injection_cds.rules import load_rules

REGISTRY = load_rules()
ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = ROOT / "fixtures" / "rules"
BASE_URL = "https://cds.example.org"
TOPIC_SYSTEM = "urn:injection-cds:rules"

FIXTURES = sorted(RULES_DIR.glob("*/*.json"))
# Each rule's own card, as the billing review shows it (every finding, one card per rule);
# what each hook's audience shows is tests/test_card_policy.py's.
BILLING_REVIEW = CardPolicy.everywhere("billing")


def _fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def service_for(hook: str) -> str:
    for service in load_services().values():
        if service.hook == hook:
            return service.id
    raise AssertionError(f"no service answers hook {hook!r}")


def subjects(body: dict[str, Any]) -> set[str]:
    """The administrations (or orders) a request asks about, as ``Type/id``."""
    found: set[str] = set()
    bundles = [
        body.get("context", {}).get("medicationAdministrations"),
        body.get("context", {}).get("draftOrders"),
        body.get("prefetch", {}).get("medicationAdministrations"),
    ]
    for bundle in bundles:
        for entry in (bundle or {}).get("entry", []):
            resource = entry["resource"]
            if resource["resourceType"] in ("MedicationAdministration", "MedicationRequest"):
                found.add(f"{resource['resourceType']}/{resource['id']}")
    return found


def all_references(body: dict[str, Any]) -> set[str]:
    """``Type/id`` of every resource anywhere in the request (for BIL findings)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("resourceType"), str) and isinstance(node.get("id"), str):
                found.add(f"{node['resourceType']}/{node['id']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body)
    return found


def context_for(folder: Path) -> RuleContext:
    """The rule context of a fixture folder: defaults, or its ``config.toml``."""
    config_file = folder / "config.toml"
    if not config_file.exists():
        return RuleContext()
    return rule_context_from_config(load_config(config_file=config_file, environ={}))


def run(path: Path) -> tuple[dict[str, Any], Any]:
    body = json.loads(path.read_text("utf-8"))
    ctx = context_for(path.parent)
    result = call_service(
        service_for(body["hook"]), body, ctx=ctx, base_url=BASE_URL, policy=BILLING_REVIEW
    )
    return body, result


def test_fixtures_exist() -> None:
    assert FIXTURES, f"no fixtures under {RULES_DIR}"


def test_every_fixture_is_named_for_its_outcome() -> None:
    bad = [_fixture_id(p) for p in FIXTURES if not p.stem.startswith(("pass_", "fail_"))]
    assert not bad, f"fixtures must be named pass_* or fail_*: {bad}"


def test_every_fixture_directory_is_a_rule() -> None:
    unknown = sorted({p.parent.name for p in FIXTURES} - set(REGISTRY))
    assert not unknown, f"fixture directories with no registered rule: {unknown}"


@pytest.mark.parametrize("path", FIXTURES, ids=_fixture_id)
def test_rule_fixture(path: Path) -> None:
    rule = path.parent.name
    body, result = run(path)
    cards = [c for c in result.cards if c["source"]["topic"]["code"] == rule]
    findings = [f for f in result.findings if f.rule == rule]
    if path.stem.startswith("pass_"):
        assert not cards, f"{rule} fired on a pass fixture: {[c['detail'] for c in cards]}"
        assert not findings
        return

    assert len(cards) == 1, (
        f"expected one {rule} card, got {len(cards)}"
        " (a rule that needs configuration reads it from config.toml beside its fixtures)"
    )
    card = cards[0]
    assert card["source"]["topic"]["system"] == TOPIC_SYSTEM
    assert card["source"]["topic"]["display"] == REGISTRY[rule].summary
    assert card["source"]["url"] == f"{BASE_URL}/rules/{rule}"
    assert findings, f"{rule} card without findings"
    named = {f.resource for f in findings}
    listed = card["extension"]["org.injectioncds.findings"]
    assert {item["resource"] for item in listed} == named
    assert all(item["rule"] == rule for item in listed)
    if rule.startswith("DOC"):
        # Documentation fixtures: every administration (or order) in the request has the
        # defect the name says, and the card names each of them and nothing else.
        assert named == subjects(body)
        for finding in findings:
            resource_id = finding.resource.split("/", 1)[1]
            assert f"`{resource_id}`" in card["detail"] or finding.message in card["detail"]
    else:
        assert named <= all_references(body) | {f"Encounter/{body['context'].get('encounterId')}"}


def _load(rule: str, name: str) -> tuple[dict[str, Any], Any]:
    return run(RULES_DIR / rule / f"{name}.json")


def _card(result: Any, rule: str) -> dict[str, Any]:
    (card,) = [c for c in result.cards if c["source"]["topic"]["code"] == rule]
    return card


# --- what the fixtures' names promise, beyond "fires / does not fire" -----------------------
def test_hooks_covered() -> None:
    hooks = {
        json.loads(p.read_text("utf-8"))["hook"]
        for p in FIXTURES
        if p.parent.name.startswith("DOC")
    }
    assert hooks == {
        "org.injectioncds.medicationadministration-sign",
        "encounter-discharge",
        "order-sign",
    }


@pytest.mark.parametrize("rule", ["DOC001", "DOC008", "DOC009", "DOC010", "DOC014"])
def test_order_rules_have_an_order_sign_fail_fixture(rule: str) -> None:
    hooks = {
        json.loads(p.read_text("utf-8"))["hook"] for p in (RULES_DIR / rule).glob("fail_*.json")
    }
    assert "order-sign" in hooks


@pytest.mark.parametrize(
    "rule", ["DOC002", "DOC003", "DOC004", "DOC005", "DOC006", "DOC007", "DOC011", "DOC012"]
)
def test_administration_only_rules_never_fire_on_order_sign(rule: str) -> None:
    for path in FIXTURES:
        body = json.loads(path.read_text("utf-8"))
        if body["hook"] != "order-sign":
            continue
        _, result = run(path)
        assert rule not in {f.rule for f in result.findings}, _fixture_id(path)


def test_vaccine_without_lot_is_critical() -> None:
    _, result = _load("DOC003", "fail_vaccine_lot_missing")
    assert _card(result, "DOC003")["indicator"] == "critical"
    _, result = _load("DOC003", "fail_lot_missing")
    assert _card(result, "DOC003")["indicator"] == "warning"


def test_medicaid_without_ndc_is_critical() -> None:
    _, result = _load("DOC006", "fail_medicaid_no_ndc")
    assert _card(result, "DOC006")["indicator"] == "critical"
    _, result = _load("DOC006", "fail_rxnorm_only")
    # ceftriaxone has a HCPCS code (J0696) and the payer is commercial: a warning
    assert _card(result, "DOC006")["indicator"] == "warning"


def test_text_only_route_is_still_read_as_an_injection() -> None:
    _, result = _load("DOC001", "fail_text_only_route")
    (administration,) = result.visit.administrations
    assert administration.route_kind == "IM"
    assert not administration.route_coded
    assert "“IM” is not coded" in _card(result, "DOC001")["detail"]


def test_body_site_in_route_is_uncoded_route() -> None:
    _, result = _load("DOC001", "fail_body_site_in_route")
    (administration,) = result.visit.administrations
    assert not administration.route_coded
    assert administration.billable_candidate  # the drug is an injection solution


def test_unhyphenated_ndc_is_reported_as_charted() -> None:
    _, result = _load("DOC007", "fail_unhyphenated_10_digit_ndc")
    assert "0409733201" in _card(result, "DOC007")["detail"]


def test_missing_medication_is_named() -> None:
    _, result = _load("DOC014", "fail_medication_reference_missing")
    card = _card(result, "DOC014")
    assert card["indicator"] == "critical"
    assert "could not be found" in card["detail"]


def test_oral_tablet_without_route_gets_no_card_at_all() -> None:
    _, result = _load("DOC001", "pass_oral_tablet_without_route")
    assert [c["source"]["topic"]["code"] for c in result.cards] == []
