"""The rule context built once from the configuration (payer profiles, reference data)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from injection_cds.config import ConfigError
from injection_cds.core.context import RuleContext
from injection_cds.reference.billing_config import context_from_config


def rule_context_from_config(config: Mapping[str, Any]) -> RuleContext:
    """The immutable context every rule reads, from the ``billing`` section.

    A reference file the section names that cannot be read is a configuration error, said
    at start-up, not a failure on the first request.
    """
    try:
        return context_from_config(config.get("billing") or {})
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"billing: {exc}") from None
