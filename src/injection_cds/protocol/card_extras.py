"""What a rule's card carries beyond its findings: extra detail, extension keys, suggestions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from injection_cds.core.billing import BillingPlan
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import VisitFacts
from injection_cds.rules.registry import Finding


@dataclass(frozen=True)
class CardExtras:
    """What a rule adds to its card beyond the findings (BIL001: lines and ChargeItems)."""

    detail: str | None = None  # markdown appended to the detail
    fix: str | None = None  # replaces the rule's "How to fix" (e.g. no suggestion to accept)
    extension: Mapping[str, Any] = field(default_factory=dict)
    suggestions: tuple[Mapping[str, Any], ...] = ()
    selection_behavior: str | None = None


CardExtrasBuilder = Callable[[list[Finding], VisitFacts, RuleContext, BillingPlan], CardExtras]
