"""Every resource of a call by ``Type/id``, and reference normalisation. No I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from injection_cds.core.facts import (
    Drug,
)

Json = Mapping[str, Any]
# Whether the drug reference knows a drug as an injected product (its NDC or code): the
# catalog's ``knows_injectable``, passed in by the caller so this module stays free of data.
InjectableCheck = Callable[[Drug], bool]


class ResourceIndex:
    """The resources of one hook call (or one encounter group), addressable by reference."""

    def __init__(self, resources: Iterable[Json] = ()) -> None:
        self._by_key: dict[str, Json] = {}
        self._by_type: dict[str, list[Json]] = {}
        for resource in resources:
            self.add(resource)

    def add(self, resource: Json) -> None:
        """Index one resource (a later one with the same type and id replaces it)."""
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str):
            return
        resource_id = resource.get("id")
        if isinstance(resource_id, str):
            key = f"{resource_type}/{resource_id}"
            if key in self._by_key:
                bucket = self._by_type[resource_type]
                bucket[:] = [r for r in bucket if r.get("id") != resource_id]
            self._by_key[key] = resource
        self._by_type.setdefault(resource_type, []).append(resource)

    def of_type(self, resource_type: str) -> list[Json]:
        """Every indexed resource of this type."""
        return self._by_type.get(resource_type, [])

    def resolve(self, reference: str | None, container: Json | None = None) -> Json | None:
        """The resource a reference names, or None when it is not here."""
        if not reference:
            return None
        if reference.startswith("#"):
            if container is None:
                return None
            wanted = reference[1:]
            for contained in container.get("contained") or ():
                if isinstance(contained, Mapping) and contained.get("id") == wanted:
                    return contained
            return None
        return self._by_key.get(normalise_reference(reference))


@lru_cache(maxsize=8192)  # pure; the same references are resolved again and again
def normalise_reference(reference: str) -> str:
    """``Type/id`` from a relative, absolute or versioned reference."""
    parts = reference.split("?")[0].rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return "/".join(parts[-2:]) if len(parts) >= 2 else reference
