"""The facts stage: a visit's facts from validated FHIR JSON (no I/O, no FHIR models).

``visit_facts`` is the one entry point the pipeline and the batch audits share; the reading
of each kind of resource is in ``extraction/`` (``index`` resolves references the way EHRs
write them: contained, relative, absolute and versioned).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from injection_cds.core import codes
from injection_cds.core.extraction.administration import administration_facts, order_facts
from injection_cds.core.extraction.encounter import (
    condition_codes,
    counselling_documented,
    encounter_facts,
    patient_facts,
    payer_facts,
    procedure_facts,
)
from injection_cds.core.extraction.index import ResourceIndex
from injection_cds.core.facts import (
    Drug,
    VisitFacts,
)

Json = Mapping[str, Any]
# Whether the drug reference knows a drug as an injected product (its NDC or code): the
# catalog's ``knows_injectable``, passed in by the caller so this module stays free of data.
InjectableCheck = Callable[[Drug], bool]


def visit_facts(
    hook: str,
    index: ResourceIndex,
    *,
    administrations: Iterable[Json] = (),
    orders: Iterable[Json] = (),
    encounter_id: str | None = None,
    patient_id: str | None = None,
    default_payer_class: str = codes.PAYER_CLASS_COMMERCIAL,
    injectable: InjectableCheck | None = None,
) -> VisitFacts:
    """All the facts the rules see for one visit (``injectable``: ``catalog.knows_injectable``)."""
    facts = [administration_facts(r, index, injectable) for r in administrations]
    facts.extend(order_facts(r, index, injectable) for r in orders)
    encounter_json = index.resolve(f"Encounter/{encounter_id}") if encounter_id else None
    if encounter_json is None:
        encounters = index.of_type("Encounter")
        encounter_json = encounters[0] if len(encounters) == 1 else None
    patient_json = index.resolve(f"Patient/{patient_id}") if patient_id else None
    if patient_json is None and len(index.of_type("Patient")) == 1:
        patient_json = index.of_type("Patient")[0]
    return VisitFacts(
        hook=hook,
        administrations=tuple(facts),
        encounter=encounter_facts(encounter_json, index) if encounter_json else None,
        patient=patient_facts(patient_json),
        payer=payer_facts(index.of_type("Coverage"), default_payer_class),
        procedures=procedure_facts(index),
        counselling_documented=counselling_documented(index),
        conditions=condition_codes(index),
        extra={"patient": f"Patient/{patient_json.get('id')}"}
        if patient_json
        else ({"patient": f"Patient/{patient_id}"} if patient_id else {}),
    )
