"""Who a hook's cards are for: the audience per hook, and which findings it sees.

- ``clinician`` (charting): what the clinician can fix in the chart now. Billing rules and
  billing-only documentation (NDC, ICD-10-CM form) are left to the billing review, unless a
  finding says the payer needs it now (a Medicaid NDC, the NDC of an unclassified drug).
- ``billing`` (discharge): every finding (the billing review).
- ``order`` (order-sign): every finding on the orders being signed.

Configured as ``cards.audience`` (hook name or service id -> audience); this module declares
that section of the configuration (``get_configs_info``). How each audience's findings
become cards (folding) is ``cards.py``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from injection_cds.rules import load_rules
from injection_cds.rules.registry import NEEDED_NOW, Finding

AUDIENCE_CLINICIAN = "clinician"
AUDIENCE_BILLING = "billing"
AUDIENCE_ORDER = "order"
AUDIENCES = (AUDIENCE_CLINICIAN, AUDIENCE_BILLING, AUDIENCE_ORDER)
DEFAULT_AUDIENCES: dict[str, str] = {
    "org.injectioncds.medicationadministration-sign": AUDIENCE_CLINICIAN,
    "encounter-discharge": AUDIENCE_BILLING,
    "order-sign": AUDIENCE_ORDER,
}

CARDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "audience": {
            "description": "hook or service id -> clinician | billing | order",
            "type": "object",
            "propertyNames": {"minLength": 1},
            "additionalProperties": {"enum": list(AUDIENCES)},
        },
    },
}


def get_configs_info() -> dict[str, dict[str, Any]]:
    """The configuration sections this module declares (collected by ``config``)."""
    return {"cards": CARDS_SCHEMA}


@dataclass(frozen=True)
class CardPolicy:
    """Which audience each hook's cards are for (``cards.audience``)."""

    audiences: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_AUDIENCES))

    @classmethod
    def everywhere(cls, audience: str) -> CardPolicy:
        """One audience for every hook (``billing``: every finding, one card per rule)."""
        return cls({hook: audience for hook in DEFAULT_AUDIENCES})

    def audience_for(self, service_id: str, hook: str) -> str:
        """The service's configured audience, else its hook's, else the billing review."""
        return self.audiences.get(service_id) or self.audiences.get(hook) or AUDIENCE_BILLING


def policy_from_config(config: Mapping[str, Any]) -> CardPolicy:
    """The card policy of a validated configuration (defaults for what it does not say)."""
    configured = (config.get("cards") or {}).get("audience") or {}
    return CardPolicy({**DEFAULT_AUDIENCES, **configured})


def is_shown(finding: Finding, audience: str) -> bool:
    """Whether this audience sees the finding (clinician: what can be fixed in the chart now)."""
    if audience != AUDIENCE_CLINICIAN:
        return True
    rule = load_rules()[finding.rule]
    if rule.family != "documentation":
        return False
    return not rule.billing_only or bool(finding.data.get(NEEDED_NOW))
