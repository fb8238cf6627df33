"""One encounter group: its administrations and what a discharge hook would prefetch.

For the group's encounter: the Encounter, the hospital stay it is ``partOf`` (MIMIC ICU
stays reach their diagnoses that way), their Conditions (``Condition.encounter`` and
``Encounter.diagnosis``), ChargeItems and Procedures, the Locations and the service provider.
For the patient (``subject``): the Patient and the Coverages whose beneficiary it is. For
each administration: its Medication (and a mix's ingredient Medications), its
MedicationRequest (which gives the order's route) and that order's Medication, and the
Conditions and Procedures named in ``reasonReference`` and ``partOf``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from injection_cds.audit.store import NO_ENCOUNTER, reference_key

Json = Mapping[str, Any]


class Source(Protocol):
    """Where a group's resources come from (the spill store in an audit)."""

    def get(self, key: str | None) -> Json | None:
        """The resource stored under ``Type/id``."""

    def linked(self, owner: str, kind: str) -> list[Json]:
        """Resources of ``kind`` pointing at ``owner``."""


class _Collected:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.resources: dict[str, Json] = {}

    def add(self, resource: Json | None) -> Json | None:
        if resource is not None:
            key = f"{resource.get('resourceType')}/{resource.get('id')}"
            self.resources.setdefault(key, resource)
        return resource

    def fetch(self, raw_reference: Any) -> Json | None:
        key = reference_key(raw_reference)
        if key is None or key in self.resources:
            return self.resources.get(key) if key else None
        return self.add(self.source.get(key))

    def medication(self, owner: Json) -> None:
        medication = self.fetch(owner.get("medicationReference"))
        for candidate in (medication, *(owner.get("contained") or ())):
            if not isinstance(candidate, Mapping):
                continue
            for ingredient in candidate.get("ingredient") or ():
                if isinstance(ingredient, Mapping):
                    self.fetch(ingredient.get("itemReference"))


def group_resources(source: Source, group: str, administrations: Iterable[Json]) -> list[Json]:
    """Every resource the rules may read for this group (administrations not included)."""
    collected = _Collected(source)
    encounter = None if group.startswith(NO_ENCOUNTER) else collected.add(source.get(group))
    patient_key: str | None = None
    for administration in administrations:
        patient_key = patient_key or reference_key(administration.get("subject"))
        collected.medication(administration)
        request = collected.fetch(administration.get("request"))
        if request is not None:
            collected.medication(request)
        for reason in administration.get("reasonReference") or ():
            collected.fetch(reason)
        for part in administration.get("partOf") or ():
            collected.fetch(part)
    if encounter is not None:
        _encounter_resources(collected, group, encounter)
        patient_key = patient_key or reference_key(encounter.get("subject"))
    if patient_key:
        collected.fetch({"reference": patient_key})
        for coverage in source.linked(patient_key, "Coverage"):
            collected.add(coverage)
    return list(collected.resources.values())


def _encounter_resources(collected: _Collected, key: str, encounter: Json) -> None:
    owners = [key]
    parent = collected.fetch(encounter.get("partOf"))
    if parent is not None:
        owners.append(f"Encounter/{parent.get('id')}")
    for owner in owners:
        for kind in ("Condition", "ChargeItem", "Procedure"):
            for resource in collected.source.linked(owner, kind):
                collected.add(resource)
    for diagnosis in encounter.get("diagnosis") or ():
        if isinstance(diagnosis, Mapping):
            collected.fetch(diagnosis.get("condition"))
    for place in encounter.get("location") or ():
        if isinstance(place, Mapping):
            collected.fetch(place.get("location"))
    collected.fetch(encounter.get("serviceProvider"))


def follows(resource: Json) -> list[str]:
    """The ``Type/id`` references ``group_resources`` may follow out of this resource.

    Why: an engine that gathers each group's resources with joins (Spark) follows these,
    by resource type, a fixed number of hops (``HOPS``) from the administrations and the
    encounter, plus the links to owners; ``group_resources`` then walks exactly as locally.
    A superset is harmless; a missing reference raises ``NotGathered``, never a silent gap.
    """
    kind = resource.get("resourceType")
    raw: list[Any] = []
    if kind in ("MedicationAdministration", "MedicationRequest"):
        raw.append(resource.get("medicationReference"))
        for contained in resource.get("contained") or ():
            if isinstance(contained, Mapping):
                raw.extend(_ingredients(contained))
        if kind == "MedicationAdministration":
            raw += [resource.get("subject"), resource.get("request")]
            raw += [*(resource.get("reasonReference") or ()), *(resource.get("partOf") or ())]
    elif kind == "Medication":
        raw.extend(_ingredients(resource))
    elif kind == "Encounter":
        raw += [resource.get("partOf"), resource.get("serviceProvider"), resource.get("subject")]
        for diagnosis in resource.get("diagnosis") or ():
            if isinstance(diagnosis, Mapping):
                raw.append(diagnosis.get("condition"))
        for place in resource.get("location") or ():
            if isinstance(place, Mapping):
                raw.append(place.get("location"))
    keys = (reference_key(item) for item in raw)
    return sorted({key for key in keys if key})


# Hops from an administration's own references (and its encounter) that the walk needs:
# request -> its Medication -> an ingredient; encounter -> partOf -> the parent's links.
HOPS = 2


def _ingredients(medication: Json) -> list[Any]:
    return [
        ingredient.get("itemReference")
        for ingredient in medication.get("ingredient") or ()
        if isinstance(ingredient, Mapping)
    ]


class NotGathered(LookupError):
    """The walk asked for a resource the gathering step did not reach (too few hops)."""


class MemorySource:
    """A ``Source`` over one group's gathered resources (the Spark engine's executors).

    ``reached`` holds every key the gathering reached (present in the data or not);
    ``expanded`` those whose links were gathered too. A look-up outside them raises
    ``NotGathered``: the group is then reported as not audited, never audited on less.
    """

    def __init__(
        self,
        resources: Mapping[str, Json],
        links: Mapping[tuple[str, str], list[str]],
        reached: set[str],
        expanded: set[str],
    ) -> None:
        self._resources = resources
        self._links = links
        self._reached = reached
        self._expanded = expanded

    def get(self, key: str | None) -> Json | None:
        """The resource stored under ``Type/id``."""
        if not key:
            return None
        if key not in self._reached:
            raise NotGathered(key)
        return self._resources.get(key)

    def linked(self, owner: str, kind: str) -> list[Json]:
        """Resources of ``kind`` pointing at ``owner``, in the order they were read."""
        if owner not in self._expanded:
            raise NotGathered(owner)
        found = (self._resources.get(key) for key in self._links.get((owner, kind), ()))
        return [resource for resource in found if resource is not None]


def _name_of(reference: Any, resources: Mapping[str, Json]) -> str | None:
    """The name of the Location/Organization a Reference names, else its display."""
    if not isinstance(reference, Mapping):
        return None
    found = resources.get(reference_key(reference) or "")
    name = (found or {}).get("name") or reference.get("display")
    return name if isinstance(name, str) and name else None


def department(encounter: Json | None, resources: Mapping[str, Json]) -> str:
    """The department a billing lead would group by: location, provider, else the class."""
    if encounter is None:
        return "(no encounter)"
    places = [p.get("location") for p in encounter.get("location") or () if isinstance(p, Mapping)]
    for reference in (*places, encounter.get("serviceProvider")):
        name = _name_of(reference, resources)
        if name:
            return name
    encounter_class = encounter.get("class")
    if isinstance(encounter_class, Mapping):
        label = encounter_class.get("display") or encounter_class.get("code")
        if isinstance(label, str) and label:
            return f"{label} (encounter class)"
    return "(no location)"
