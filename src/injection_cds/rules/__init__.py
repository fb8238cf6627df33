"""The rules: documentation (DOC) and billing (BIL), registered under their codes.

Nothing registers at import time: ``load_rules()`` imports the rule modules once and returns
the registry; ``rules_in_order()`` is the order the engine runs them in. A new family of
rules is a module here, named in ``RULE_MODULES``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from types import MappingProxyType

from injection_cds.rules.registry import REGISTRY, Finding, Rule

RULE_MODULES = (
    "injection_cds.rules.documentation",
    "injection_cds.rules.billing",
    "injection_cds.rules.claims",
    "injection_cds.rules.reference",
    "injection_cds.rules.coding_families",
)


@functools.cache
def load_rules() -> Mapping[str, Rule]:
    """Every rule by code (the rule modules are imported on the first call)."""
    for module in RULE_MODULES:
        importlib.import_module(module)
    return MappingProxyType(REGISTRY)


@functools.cache
def rules_in_order() -> tuple[Rule, ...]:
    """Every rule, documentation first, by code."""
    rules = load_rules().values()
    return tuple(sorted(rules, key=lambda r: (r.family != "documentation", r.code)))


__all__ = ["RULE_MODULES", "Finding", "Rule", "load_rules", "rules_in_order"]
