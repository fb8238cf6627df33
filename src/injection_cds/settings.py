"""The rule context built once from the configuration (payer profiles, reference data)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from injection_cds.rules.context import RuleContext, RuleSettings


def rule_context_from_config(config: Mapping[str, Any]) -> RuleContext:
    """The immutable context every rule reads, from the ``billing`` section."""
    billing = config.get("billing") or {}
    settings = RuleSettings(
        default_payer_class=billing.get("default_payer_class", RuleSettings.default_payer_class)
    )
    return RuleContext(settings=settings)
