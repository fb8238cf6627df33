"""The rules: documentation (DOC) and billing (BIL), registered under their codes.

Importing this package registers every rule.
"""

from injection_cds.rules import (
    billing,  # noqa: F401  (registers BIL001-BIL014)
    documentation,  # noqa: F401  (registers DOC001-DOC014)
)
from injection_cds.rules.registry import REGISTRY, Finding, Rule, rules_in_order

__all__ = ["REGISTRY", "Finding", "Rule", "rules_in_order"]
