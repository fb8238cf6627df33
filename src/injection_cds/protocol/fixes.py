"""Suggestions that fix the chart: where the fix is certain, an update of the administration.

CDS Hooks 2.0 §Action: an ``update`` action "holds the updated resource in its entirety". So
each administration gets at most one update, carrying every certain fix the response knows
for it; every card that reports one of those findings offers that same update, and accepting
it twice changes nothing more. A fix is certain when the charted value has exactly one
reading:

- DOC001: a text-only route that says exactly IM, SC/SQ/SUBQ, ID, IV or intra-arterial (and
  nothing else) becomes the SNOMED CT route, the charted text kept;
- DOC007: a 10-digit NDC (4-4-2, 5-3-2, 5-4-1) or an 11-digit one (5-4-2) malformed only in
  its separators (spaces, dots, slashes or en dashes in place of hyphens) becomes its
  11-digit 5-4-2 form. Digits hyphenated off those patterns are not guessed.

The updated resource is validated as FHIR R4 before it is offered; an administration that
the lenient reader had to prune (``fhir.validation``) is never offered an update, which
would drop the elements the client sent.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from injection_cds.core import codes
from injection_cds.core.ndc import format_ndc, normalise_ndc
from injection_cds.fhir.validation import InvalidResource, validate_resource
from injection_cds.rules.registry import Finding

Json = dict[str, Any]
_NAMESPACE = uuid.UUID("0b3c0e55-5a0e-4d8e-9c55-3f0f1f6a7d21")
_ADMINISTRATION = "MedicationAdministration"
_SEPARATORS = re.compile(r"[\s.\u2010-\u2015\u2212_/]+")
_LABEL_LIMIT = 120

Fixer = Callable[[Json], str | None]


def _fix_route(resource: Json) -> str | None:
    """DOC001: code a text-only route in SNOMED CT (the text kept)."""
    dosage = resource.get("dosage")
    route = dosage.get("route") if isinstance(dosage, dict) else None
    if not isinstance(route, dict) or route.get("coding"):
        return None  # no route, or codings this service does not know: not certain
    text = route.get("text")
    if not isinstance(text, str):
        return None
    kind = codes.TEXT_ROUTES.get(text.strip().upper())
    coded = codes.SNOMED_ROUTE_FOR_KIND.get(kind) if kind is not None else None
    if coded is None:
        return None
    code, display = coded
    route["coding"] = [{"system": codes.SNOMED, "code": code, "display": display}]
    return f"Code the route as SNOMED CT {code} {display}"


def certain_ndc11(raw: str) -> str | None:
    """The 11-digit NDC of a charted NDC malformed only in its separators, else None."""
    if normalise_ndc(raw) is not None:
        return None  # not malformed
    value = _SEPARATORS.sub("-", raw.strip()).strip("-")
    return normalise_ndc(value) if value != raw.strip() else None


def _ndc_codings(resource: Json) -> Iterable[Json]:
    """The NDC codings of the administration's own drug (inline or contained Medication)."""
    concepts: list[Any] = [resource.get("medicationCodeableConcept")]
    reference = (resource.get("medicationReference") or {}).get("reference")
    if isinstance(reference, str) and reference.startswith("#"):
        for contained in resource.get("contained") or ():
            if isinstance(contained, dict) and contained.get("id") == reference[1:]:
                concepts.append(contained.get("code"))
    for concept in concepts:
        for coding in (concept or {}).get("coding") or ():
            if isinstance(coding, dict) and coding.get("system") == codes.NDC:
                yield coding


def _fix_ndc(resource: Json) -> str | None:
    """DOC007: an NDC malformed only in its separators, in its 11-digit 5-4-2 form."""
    fixed = []
    for coding in _ndc_codings(resource):
        code = coding.get("code")
        ndc11 = certain_ndc11(code) if isinstance(code, str) else None
        if ndc11 is not None:
            coding["code"] = format_ndc(ndc11)
            fixed.append(coding["code"])
    if not fixed:
        return None
    return "Record the NDC in its 11-digit form " + ", ".join(fixed)


FIXERS: dict[str, Fixer] = {"DOC001": _fix_route, "DOC007": _fix_ndc}


@dataclass(frozen=True)
class Fix:
    """The updated administration and what was changed in it."""

    reference: str
    descriptions: tuple[str, ...]
    resource: Json

    def suggestion(self) -> dict[str, Any]:
        """The CDS Hooks suggestion: one update action with the whole resource."""
        label = "; ".join(self.descriptions)
        if len(label) > _LABEL_LIMIT:
            label = label[: _LABEL_LIMIT - 1].rstrip() + "…"
        return {
            "label": label,
            "uuid": str(uuid.uuid5(_NAMESPACE, "|".join((self.reference, *self.descriptions)))),
            "isRecommended": True,
            "actions": [
                {
                    "type": "update",
                    "description": "; ".join(self.descriptions),
                    "resource": self.resource,
                }
            ],
        }


def certain_fixes(
    findings: Iterable[Finding],
    resources: Mapping[str, Json],
    pruned: frozenset[str] = frozenset(),
) -> dict[str, Fix]:
    """Per administration, one update carrying every certain fix among these findings."""
    by_resource: dict[str, list[str]] = {}
    for finding in findings:
        if finding.rule in FIXERS and finding.resource.startswith(_ADMINISTRATION + "/"):
            rules = by_resource.setdefault(finding.resource, [])
            if finding.rule not in rules:
                rules.append(finding.rule)
    fixes: dict[str, Fix] = {}
    for reference, rules in by_resource.items():
        original = resources.get(reference)
        if original is None or reference in pruned:
            continue
        fixed = copy.deepcopy(original)
        descriptions = [d for d in (FIXERS[rule](fixed) for rule in sorted(rules)) if d]
        if not descriptions:
            continue
        try:
            validate_resource(fixed, "suggested update")
        except InvalidResource:
            continue  # never offer a resource that is not valid R4
        fixes[reference] = Fix(reference, tuple(descriptions), fixed)
    return fixes


def suggestions_for(findings: Iterable[Finding], fixes: Mapping[str, Fix]) -> list[dict[str, Any]]:
    """The update suggestions for the administrations these findings name (in order)."""
    references = dict.fromkeys(
        f.resource for f in findings if f.rule in FIXERS and f.resource in fixes
    )
    return [fixes[reference].suggestion() for reference in references]
