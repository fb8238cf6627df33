"""The claim pass over the other families' lines: IV drug lines take JW/JZ and ESA rules,
an inpatient stay bills no IV line, a hospital outpatient IV line is institutional."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from injection_cds.core import codes
from injection_cds.core.billing import BillingPlan, plan_billing
from injection_cds.core.context import RuleContext

sys.path.insert(0, str(Path(__file__).parent))
from cds_test_support import charting_visit  # noqa: E402
from coder_case_factory import IV_PUSH, administration, ketorolac_30, request  # noqa: E402


def _plan(body: dict[str, Any]) -> BillingPlan:
    return plan_billing(charting_visit(body), RuleContext())


def _iv_request(**kwargs: Any) -> dict[str, Any]:
    return json.loads(
        json.dumps(request([administration("ma-1", ketorolac_30(), 30, "mg", IV_PUSH)], **kwargs))
    )


def test_iv_push_drug_line_takes_jz_for_medicare() -> None:
    plan = _plan(_iv_request())
    drug = [line for line in plan.iv_lines if line.code == "J1885"]
    assert [(line.units, line.modifiers) for line in drug] == [(2, ("JZ",))]
    assert any(line.code == "96374" for line in plan.iv_lines)


def test_iv_push_on_an_inpatient_stay_bills_nothing() -> None:
    plan = _plan(_iv_request(encounter_class="IMP"))
    assert plan.iv_lines == ()


def test_iv_push_in_the_emergency_department_is_on_the_hospital_claim() -> None:
    plan = _plan(_iv_request(payer="commercial", encounter_class="EMER"))
    assert plan.iv_lines
    assert {line.claim for line in plan.iv_lines} == {codes.CLAIM_INSTITUTIONAL}


def test_a_telehealth_encounter_bills_no_line_and_no_discard_modifier() -> None:
    # Medicare, a single-dose vial given whole: JZ in the office, nothing on telehealth.
    office = _plan(_iv_request())
    assert office.discards
    telehealth = _plan(_iv_request(encounter_class="VR"))
    assert telehealth.setting == codes.SETTING_TELEHEALTH
    assert telehealth.all_lines == ()
    assert telehealth.discards == () and telehealth.pending_discards == ()
