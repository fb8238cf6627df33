"""The drug of an administration or order: codes, NDCs, name, strength, lot. No I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from injection_cds.core.extraction.index import ResourceIndex
from injection_cds.core.facts import (
    Concept,
    Drug,
    Strength,
    concept,
    instant,
    quantity,
    reference_of,
)

Json = Mapping[str, Any]
# Whether the drug reference knows a drug as an injected product (its NDC or code): the
# catalog's ``knows_injectable``, passed in by the caller so this module stays free of data.
InjectableCheck = Callable[[Drug], bool]


_NAME_IDENTIFIER_SUFFIX = "medication-name"  # a local identifier system that names the drug


# --- the drug ------------------------------------------------------------------------------
def drug_facts(owner: Json, index: ResourceIndex) -> Drug | None:
    """The drug of a MedicationAdministration or MedicationRequest; None if none charted."""
    codeable = concept(owner.get("medicationCodeableConcept"))
    reference_raw = owner.get("medicationReference")
    if reference_raw is None:
        return Drug(concept=codeable) if codeable is not None else None
    reference = reference_of(reference_raw)
    medication = index.resolve(reference, owner)
    if medication is None:
        display = reference_raw.get("display") if isinstance(reference_raw, Mapping) else None
        return Drug(
            concept=Concept((), display) if display else None,
            reference=reference,
            resolved=False,
        )
    batch = medication.get("batch") or {}
    ingredients: list[Concept] = []
    for ingredient in medication.get("ingredient") or ():
        item = concept(ingredient.get("itemCodeableConcept"))
        if item is None:
            inner = index.resolve(reference_of(ingredient.get("itemReference")), medication)
            item = medication_concept(inner) if inner else None
        if item is not None:
            ingredients.append(item)
    return Drug(
        concept=medication_concept(medication),
        reference=reference,
        resolved=True,
        form=concept(medication.get("form")),
        lot_number=batch.get("lotNumber") or None,
        expiration=instant(batch.get("expirationDate")),
        ingredients=tuple(ingredients),
        strength=_strength(medication),
    )


def medication_concept(medication: Json) -> Concept | None:
    """``Medication.code``, named by a local name identifier when the code has no text.

    MIMIC keeps the drug's name in ``identifier`` (system ``.../mimic-medication-name``) and
    only the NDC in ``code``; the name is what a coder reads next to the NDC.
    """
    found = concept(medication.get("code"))
    if found is not None and (found.text or any(c.display for c in found.codings)):
        return found
    names = [
        i.get("value")
        for i in medication.get("identifier") or ()
        if isinstance(i, Mapping)
        and isinstance(i.get("value"), str)
        and str(i.get("system") or "").endswith(_NAME_IDENTIFIER_SUFFIX)
    ]
    if not names:
        return found
    return Concept(found.codings if found else (), names[0])


def _strength(medication: Json) -> Strength | None:
    """The strength of a single-ingredient product, when charted with a numerator value."""
    strengths: list[Mapping[str, Any]] = []
    for ingredient in medication.get("ingredient") or ():
        if isinstance(ingredient, Mapping) and isinstance(ingredient.get("strength"), Mapping):
            strengths.append(ingredient["strength"])
    if len(strengths) != 1:
        return None
    numerator = quantity(strengths[0].get("numerator"))
    if numerator is None or numerator.value is None or numerator.value <= 0:
        return None
    return Strength(numerator, quantity(strengths[0].get("denominator")))
