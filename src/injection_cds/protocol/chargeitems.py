"""FHIR R4 ChargeItems for the BIL001 lines, and the BIL001 card extras. No I/O.

One ChargeItem per charge line (RULES.md BIL001), valid under ``fhir.resources.R4B``:

* ``status`` billable; ``code`` the CPT or HCPCS code; ``quantity.value`` the units;
* ``subject`` the patient, ``context`` the encounter, ``occurrenceDateTime`` the
  administration time, ``performer.actor`` who gave it;
* ``reason`` the linked ICD-10-CM codes; ``service`` the MedicationAdministration(s);
* ``productReference`` the Medication when it is a resource of its own, else
  ``productCodeableConcept`` with the drug's NDC (a contained ``#med1`` cannot be referenced
  from another resource);
* R4 ChargeItem has no modifier element: each modifier is an extension
  ``https://injection-cds.org/fhir/StructureDefinition/claim-modifier`` (``valueCoding``,
  the CPT system), and the NDC quantity an extension
  ``https://injection-cds.org/fhir/StructureDefinition/ndc-quantity`` (``valueQuantity``
  whose ``code`` is the NDC unit qualifier: UN, ML, GR, F2, ME). Documented in
  ``docs/reference-data.md``.

Importing this module registers the BIL001 card extras with ``cards.register_card_extras``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from injection_cds.core import codes
from injection_cds.core.billing import BillingPlan, ChargeLine, json_number, lines_json
from injection_cds.core.billing.estimate import Estimate
from injection_cds.core.context import RuleContext
from injection_cds.core.facts import Administration, VisitFacts
from injection_cds.protocol.card_extras import CardExtras, CardExtrasBuilder
from injection_cds.rules.registry import Finding, charted

LINES_EXTENSION = "org.injectioncds.lines"
NDC_UNIT_SYSTEM = "urn:injection-cds:ndc-unit-qualifier"
_SUGGESTION_NAMESPACE = uuid.UUID("0b4f7e3a-6c1d-4d8e-9a2b-5f3c1e7d9a40")


def chargeitem(
    line: ChargeLine, visit: VisitFacts, administrations: Mapping[str, Administration]
) -> dict[str, Any]:
    """One ChargeItem (R4 JSON) for one charge line."""
    item: dict[str, Any] = {
        "resourceType": "ChargeItem",
        "status": "billable",
        "code": {"coding": [{"system": line.system, "code": line.code}], "text": line.description},
    }
    extensions: list[dict[str, Any]] = [
        {
            "url": codes.CHARGEITEM_MODIFIER_EXTENSION,
            "valueCoding": {"system": codes.CPT, "code": modifier},
        }
        for modifier in line.modifiers
    ]
    if line.ndc and line.ndc_unit and line.ndc_quantity is not None:
        extensions.append(
            {
                "url": codes.CHARGEITEM_NDC_EXTENSION,
                "valueQuantity": {
                    "value": json_number(line.ndc_quantity),
                    "unit": line.ndc_unit,
                    "system": NDC_UNIT_SYSTEM,
                    "code": line.ndc_unit,
                },
            }
        )
    if extensions:
        item["extension"] = extensions
    patient = visit.extra.get("patient")
    if isinstance(patient, str) and patient:
        item["subject"] = {"reference": patient}
    if visit.encounter is not None:
        item["context"] = {"reference": visit.encounter.reference}
    given = [administrations[s] for s in line.services if s in administrations]
    first = given[0] if given else None
    if first is not None and first.effective is not None and first.effective.date is not None:
        item["occurrenceDateTime"] = first.effective.text
    performers = list(
        dict.fromkeys(p.reference for a in given for p in a.performers if p.reference)
    )
    if performers:
        item["performer"] = [{"actor": {"reference": r}} for r in performers]
    if line.units is not None:
        item["quantity"] = {"value": line.units}
    if line.diagnoses:
        item["reason"] = [
            {"coding": [{"system": codes.ICD10CM, "code": code}]} for code in line.diagnoses
        ]
    services = [s for s in line.services if s.startswith("MedicationAdministration/")]
    if services:
        item["service"] = [{"reference": s} for s in services]
    product = _product(line, first)
    if product is not None:
        item.update(product)
    return item


def _product(line: ChargeLine, first: Administration | None) -> dict[str, Any] | None:
    if line.system == codes.CPT and not line.ndc:
        return None  # an administration code: the service is the product
    drug = first.drug if first is not None else None
    if drug is not None and drug.reference and not drug.reference.startswith("#"):
        return {"productReference": {"reference": drug.reference}}
    if line.ndc:
        return {
            "productCodeableConcept": {
                "coding": [{"system": codes.NDC, "code": line.ndc}],
                "text": line.description,
            }
        }
    return None


def chargeitems(lines: list[ChargeLine], visit: VisitFacts) -> list[dict[str, Any]]:
    """One ChargeItem per line."""
    administrations = {a.reference: a for a in visit.administrations}
    return [chargeitem(line, visit, administrations) for line in lines]


def lines_table(lines: list[ChargeLine]) -> str:
    """The readable markdown table of the lines for the card detail."""
    rows = [
        "| code | modifiers | units | NDC (N4) | diagnoses | what |",
        "|---|---|---|---|---|---|",
    ]
    for line in lines:
        ndc = ""
        if line.ndc:
            ndc = f"N4 {line.ndc}"
            if line.ndc_unit and line.ndc_quantity is not None:
                ndc += f" {line.ndc_unit}{json_number(line.ndc_quantity)}"
                ndc += "\\*" if line.ndc_note else ""
        rows.append(
            f"| {line.code} | {' '.join(line.modifiers)} | "
            f"{line.units if line.units is not None else '?'} | {ndc} | "
            f"{', '.join(line.diagnoses)} | {charted(line.description)}"
            + (f" — {line.note}" if line.note else "")
            + " |"
        )
    return "\n".join(rows)  # an NDC caveat (\\*) is stated once, in the card's first line


def estimate_text(estimate: Estimate) -> str:
    """The reimbursement estimate sentence: figure, schedule name and year."""
    year = f" {estimate.year}" if estimate.year else ""
    text = (
        f"**Estimate:** ${estimate.amount:.2f} from the fee schedule "
        f"“{estimate.schedule}”{year} ({estimate.priced} line(s) priced"
    )
    if estimate.unpriced:
        text += f"; no rate for {', '.join(estimate.unpriced)}"
    return text + ")."


def _already_charged(line: ChargeLine, charged: frozenset[tuple[str, str]]) -> bool:
    """A ChargeItem with this code exists for every administration the line bills."""
    return bool(line.services) and all((line.code, s) in charged for s in line.services)


# "How to fix" where the card has no suggestion to accept.
_ORDER_FIX = (
    "Check the order's drug, dose and route against these lines; the ChargeItems are "
    "suggested when the administration is charted."
)
_CHARGED_FIX = "Review the lines against the ChargeItems already on the encounter."


def billing_summary_extras(
    findings: list[Finding], visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> CardExtras:
    """BIL001's lines extension, table, estimate and create-ChargeItems suggestion."""
    return lines_extras(list(plan.injection_lines), visit, plan.injection_estimate)


def plan_lines_extras(
    lines_of: Callable[[BillingPlan], tuple[ChargeLine, ...]],
) -> CardExtrasBuilder:
    """A card's extras that propose the plan's lines ``lines_of`` picks, and ChargeItems."""

    def build(
        findings: list[Finding], visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
    ) -> CardExtras:
        return lines_extras(list(lines_of(plan)), visit)

    return build


def uncodable_chemo_extras(
    findings: list[Finding], visit: VisitFacts, ctx: RuleContext, plan: BillingPlan
) -> CardExtras:
    """BIL022's drug lines (the administration code waits for the documentation)."""
    return lines_extras([line for item in plan.uncodable_chemo for line in item.drug_lines], visit)


def lines_extras(
    lines: list[ChargeLine], visit: VisitFacts, estimate: Estimate | None = None
) -> CardExtras:
    """A card's lines extension, table, estimate and create-ChargeItems suggestion."""
    if not lines:
        return CardExtras()
    detail = lines_table(lines)
    if estimate is not None:
        detail += "\n\n" + estimate_text(estimate)
    extension = {LINES_EXTENSION: lines_json(lines)}
    if all(s.startswith("MedicationRequest/") for line in lines for s in line.services):
        # order-sign: a preview of what the administration will bill. Nothing has been
        # given yet, so nothing may be charged: no create-ChargeItem suggestion.
        preview = "**Preview**: once the order is given and charted, it will bill:\n\n"
        return CardExtras(detail=preview + detail, extension=extension, fix=_ORDER_FIX)
    charged = visit.encounter.charged if visit.encounter is not None else frozenset()
    to_charge = [line for line in lines if not _already_charged(line, charged)]
    if not to_charge:
        done = "Every line already has a ChargeItem on this encounter; nothing to create."
        return CardExtras(detail=detail + "\n\n" + done, extension=extension, fix=_CHARGED_FIX)
    items = chargeitems(to_charge, visit)
    key = "|".join(f"{line.code}:{','.join(line.services)}" for line in to_charge)
    already = len(lines) - len(to_charge)
    suggestion = {
        "label": f"Create {len(items)} charge item{'s' if len(items) != 1 else ''}"
        + (f" ({already} already charged)" if already else ""),
        "uuid": str(uuid.uuid5(_SUGGESTION_NAMESPACE, key)),
        "isRecommended": True,
        "actions": [
            {
                "type": "create",
                "description": f"ChargeItem {item['code']['coding'][0]['code']}",
                "resource": item,
            }
            for item in items
        ],
    }
    return CardExtras(
        detail=detail,
        extension=extension,
        suggestions=(suggestion,),
        selection_behavior="at-most-one",
    )
