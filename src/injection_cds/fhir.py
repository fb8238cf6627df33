"""The FHIR R4 boundary: the only module that imports fhir.resources.

Resources are validated with ``fhir.resources.R4B`` (its models accept R4 documents for the
types this service reads). Validation is the gatekeeper: wrong types, unknown elements and
unknown resource types are refused. Missing *required* elements are tolerated on purpose —
a chart being signed is often incomplete (no ``effective[x]``, no ``medication[x]``), and
the point of the service is to say so in a card, not to refuse the request.

Past this module the pipeline reads the validated JSON as plain dicts (``facts.py``): the
dicts are structurally valid by then, and reading them is much cheaper than walking models.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

Json = dict[str, Any]

# Placeholder values for required elements that may be missing from a chart in progress.
# They exist only for the validation call; the caller keeps the original document.
_REQUIRED_PLACEHOLDERS: dict[str, Any] = {
    "status": "unknown",
    "intent": "order",
    "subject": {"reference": "Basic/placeholder"},
    "beneficiary": {"reference": "Basic/placeholder"},
    "payor": [{"reference": "Basic/placeholder"}],
    "patient": {"reference": "Basic/placeholder"},
    "class": {"code": "placeholder"},
    "code": {"text": "placeholder"},
    "type": "collection",
    "kind": "placeholder",
}
_CHOICE_PLACEHOLDERS: dict[str, Any] = {
    "DateTime": "1900-01-01",
    "Period": {"start": "1900-01-01"},
    "CodeableConcept": {"text": "placeholder"},
    "Reference": {"reference": "Basic/placeholder"},
    "String": "placeholder",
    "Boolean": True,
    "Quantity": {"value": 0},
}
_CHOICE_MESSAGE = re.compile(r"Expect any of field value from this list \[([^\]]*)\]")
_REQUIRED_MESSAGE = re.compile(r"Value for the field '([A-Za-z]+)' is required")
_MAX_FILL_PASSES = 6


@dataclass(frozen=True)
class FhirIssue:
    """One reason a resource is not valid FHIR: where, and what (never the value itself)."""

    location: str
    message: str


class InvalidResource(ValueError):
    """A resource that is not valid FHIR R4; ``issues`` say where and why."""

    def __init__(self, issues: list[FhirIssue]) -> None:
        super().__init__("; ".join(f"{i.location}: {i.message}" for i in issues))
        self.issues = issues


@lru_cache(maxsize=64)
def _model_class(resource_type: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError, ImportError):
        return None


def is_known_resource_type(resource_type: str) -> bool:
    """Whether FHIR R4(B) defines this resource type."""
    return _model_class(resource_type) is not None


def _choice_placeholder(message: str) -> tuple[str, Any] | None:
    match = _CHOICE_MESSAGE.search(message)
    if not match:
        return None
    for name in re.findall(r"'([A-Za-z]+)'", match.group(1)):
        for suffix, value in _CHOICE_PLACEHOLDERS.items():
            if name.endswith(suffix):
                return name, value
    return None


def _safe_message(error: Mapping[str, Any]) -> str:
    # pydantic messages describe the expected type; they do not echo the input value,
    # except JSON-decoding messages, which we rewrite (the value could be PHI).
    kind = str(error.get("type", ""))
    if kind == "json_invalid":
        return "expected a JSON object or array here"
    if kind == "extra_forbidden":
        return "unknown element for this resource type"
    message = str(error.get("msg", "invalid value"))
    # fhir_core's resource-type mismatch messages quote the resourceType that was sent.
    if kind == "fhir-validation-wrong-resource-type" or "resource_type" in message:
        return "a resource of the wrong or an unknown resourceType for this element"
    value = error.get("input")
    if isinstance(value, str) and len(value) >= 2 and value in message:
        return "invalid value"
    return message.removeprefix("Value error, ")


def _location(resource_type: str, loc: tuple[Any, ...]) -> str:
    path = resource_type
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate_resource(resource: Any, where: str = "resource") -> Json:
    """Validate one FHIR R4 resource given as parsed JSON; return it unchanged.

    Raises ``InvalidResource`` when it is not a JSON object, names no or an unknown
    ``resourceType``, or fails R4B validation for any reason other than a missing
    required element.
    """
    if not isinstance(resource, dict):
        raise InvalidResource([FhirIssue(where, "expected a FHIR resource (a JSON object)")])
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise InvalidResource([FhirIssue(where, "missing resourceType")])
    model = _model_class(resource_type)
    if model is None:
        raise InvalidResource([FhirIssue(f"{where}.resourceType", "unknown resource type")])
    candidate: Json = resource
    for _ in range(_MAX_FILL_PASSES):
        try:
            model.model_validate(candidate)
            return resource
        except (KeyError, TypeError, AttributeError, RecursionError):
            # fhir_core fails this way on some nested documents (a contained resource
            # with an unknown or non-string resourceType): still invalid FHIR, not a crash.
            raise InvalidResource([FhirIssue(where, "invalid resource")]) from None
        except ValidationError as exc:
            filled = _fill_missing_required(candidate, exc, resource)
            if filled is None:
                issues = [
                    FhirIssue(
                        f"{where}: " + _location(resource_type, tuple(err["loc"])),
                        _safe_message(err),
                    )
                    for err in exc.errors()
                    if not _is_missing_required(err)
                ]
                raise InvalidResource(issues or [FhirIssue(where, "invalid resource")]) from None
            candidate = filled
    raise InvalidResource([FhirIssue(where, "invalid resource")])


def _is_missing_required(error: Mapping[str, Any]) -> bool:
    return _placeholder_for(error) is not None


def _placeholder_for(error: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The (element, placeholder) that would satisfy a missing-required error, if it is one."""
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "missing" and len(loc) == 1:
        name = str(loc[0])
        return (name, _REQUIRED_PLACEHOLDERS[name]) if name in _REQUIRED_PLACEHOLDERS else None
    if error.get("type") not in ("value_error", "model_field_validation.missing") or len(loc) > 1:
        return None
    message = str(error.get("msg", ""))
    required = _REQUIRED_MESSAGE.search(message)
    if required and required.group(1) in _REQUIRED_PLACEHOLDERS:
        return required.group(1), _REQUIRED_PLACEHOLDERS[required.group(1)]
    return _choice_placeholder(message)


def _fill_missing_required(candidate: Json, exc: ValidationError, original: Json) -> Json | None:
    """A copy with placeholders for the missing required elements; None when other errors."""
    errors = exc.errors()
    if not errors or not all(_is_missing_required(err) for err in errors):
        return None
    filled = copy.copy(candidate) if candidate is not original else dict(original)
    for err in errors:
        placeholder = _placeholder_for(err)
        if placeholder is not None:
            filled[placeholder[0]] = placeholder[1]
    return filled


def bundle_resources(bundle: Json) -> list[Json]:
    """The resources of a Bundle's entries (a Bundle without ``type`` is accepted)."""
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise InvalidResource([FhirIssue("Bundle.entry", "expected an array")])
    resources: list[Json] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InvalidResource([FhirIssue(f"Bundle.entry[{position}]", "expected an object")])
        resource = entry.get("resource")
        if resource is not None:
            resources.append(resource)
    return resources


def validate_resources(value: Any, where: str) -> list[Json]:
    """Validate a resource or a Bundle of them; return the resources it holds.

    A Bundle's shell is validated apart from its entries' resources, each of which is
    validated on its own, so an issue names the entry it is in.
    """
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        shell = dict(value)
        entries = bundle_resources(value)
        shell["entry"] = [
            {k: v for k, v in entry.items() if k != "resource"}
            for entry in value.get("entry") or []
        ]
        if not shell["entry"]:
            del shell["entry"]
        validate_resource(shell, where)
        return [
            validate_resource(resource, f"{where}.entry[{position}].resource")
            for position, resource in enumerate(entries)
        ]
    return [validate_resource(value, where)]
