"""Billing: the claim lines of a visit, one module per coding family. No I/O.

``plan_billing`` computes the whole plan once per call (``plan.py``); ``classify`` says which
administrations bill how; ``lines`` is the claim line itself. A new coding family is a module
here, a field on ``BillingPlan`` and the rule in ``rules/billing.py`` that reports it.
"""

from injection_cds.core.billing.lines import ChargeLine, json_number, lines_json
from injection_cds.core.billing.plan import EMPTY_PLAN, BillingPlan, plan_billing

__all__ = ["EMPTY_PLAN", "BillingPlan", "ChargeLine", "json_number", "lines_json", "plan_billing"]
