"""The CDS services, read from the declarative definitions in ``cds_hooks/services.json``.

Discovery (``GET /cds-services``) is generated from the same definitions the pipeline
runs on, so the two cannot drift. Fields of our own (``context``, the ``required`` and
``role`` of a prefetch key) stay out of the discovery document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

ResourceRole = Literal["administrations", "orders"]


@dataclass(frozen=True)
class PrefetchKey:
    """One prefetch template the service asks for."""

    key: str
    query: str
    required: bool
    role: ResourceRole | None = None  # what the resources are for, when not context


@dataclass(frozen=True)
class ServiceDefinition:
    """One CDS service: its id, hook, texts, context needs and prefetch templates."""

    id: str
    hook: str
    title: str
    description: str
    usage_requirements: str | None
    required_context: tuple[str, ...]
    context_resources: dict[str, ResourceRole]
    prefetch: tuple[PrefetchKey, ...]

    def discovery_entry(self) -> dict[str, Any]:
        """This service as the discovery endpoint lists it (CDS Hooks 2.0 §Discovery)."""
        entry: dict[str, Any] = {
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "id": self.id,
            "prefetch": {p.key: p.query for p in self.prefetch},
        }
        if self.usage_requirements:
            entry["usageRequirements"] = self.usage_requirements
        return entry


def _definition(raw: dict[str, Any]) -> ServiceDefinition:
    context = raw.get("context", {})
    return ServiceDefinition(
        id=raw["id"],
        hook=raw["hook"],
        title=raw["title"],
        description=raw["description"],
        usage_requirements=raw.get("usageRequirements"),
        required_context=tuple(context.get("required", ())),
        context_resources=dict(context.get("resources", {})),
        prefetch=tuple(
            PrefetchKey(key, spec["query"], bool(spec.get("required")), spec.get("role"))
            for key, spec in raw.get("prefetch", {}).items()
        ),
    )


def definitions_text() -> str:
    """The raw definitions file."""
    return (
        resources.files("injection_cds")
        .joinpath("cds_hooks")
        .joinpath("services.json")
        .read_text("utf-8")
    )


@lru_cache(maxsize=1)
def load_services() -> dict[str, ServiceDefinition]:
    """Every service, by id."""
    raw = json.loads(definitions_text())
    return {d.id: d for d in (_definition(s) for s in raw["services"])}


def discovery_document() -> dict[str, Any]:
    """The discovery response body."""
    return {"services": [s.discovery_entry() for s in load_services().values()]}


def served_hooks() -> frozenset[str]:
    """Every hook some service answers."""
    return frozenset(s.hook for s in load_services().values())
