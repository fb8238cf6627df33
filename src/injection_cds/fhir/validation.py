"""The FHIR R4 boundary: validation with fhir.resources (with its fast path in ``fast.py``).

Resources are validated with ``fhir.resources.R4B`` (its models accept R4 documents for the
types this service reads). Validation is the gatekeeper: wrong types, unknown elements and
unknown resource types are refused. Missing *required* elements are tolerated on purpose —
a chart being signed is often incomplete (no ``effective[x]``, no ``medication[x]``), and
the point of the service is to say so in a card, not to refuse the request.

Past this module the pipeline reads the validated JSON as plain dicts (``facts.py``): the
dicts are structurally valid by then, and reading them is much cheaper than walking models.

Validation is a pure function of a resource's content, and an EHR sends the same Encounter,
Conditions, Coverage and Patient with every hook call of a visit. So each process keeps a
bounded LRU of the digests (BLAKE2b of the canonical JSON: orjson, sorted keys) of resources
that validated; a resource byte-for-byte identical to one of them is accepted without
running the models again. Only successes are remembered; a resource that failed is always
validated (and refused) again. ``configure_validation_cache(0)`` turns it off
(``fhir.validation_cache_size`` in the configuration).

Before the models, ``fhir_fast.certainly_valid`` (a structural checker compiled from the same
R4B model metadata, using fhir_core's own primitive validators) is asked: when it says the
resource is certainly valid the models are not run; on any doubt it says "not sure" and the
models decide (same answer, same issues). It is never more permissive than the models
(``tests/test_fhir_fast.py``); ``configure_fast_validation(False)`` turns it off
(``fhir.fast_validation`` in the configuration).

A Bundle's shell (the Bundle without its entries' resources) is checked by hand when it has
only the usual elements (``type``, ``id``, ``total``, entries of ``fullUrl`` / ``search.mode``)
with values the R4B model certainly accepts; any other shell goes through the model.

**Lenient reading** (the default; ``fhir.strict = true`` turns it off): real clients send
resources that are not quite R4 (the CDS Hooks Sandbox's ``MedicationRequest.category``, and
``reasonCode`` when a condition is picked, are one object, not an array). On a copy the
pipeline reads, a top-level element that holds one object where R4 wants an array is read
as a one-item array (nothing is guessed), and the elements still invalid are dropped when no
rule reads them (``READ_ELEMENTS``); the copy is validated again, and a note says what was
done (``leniency_notes``: the response says so, the log names the elements, never a value).
Any other issue in an element the rules read is refused as before (422).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from pydantic import ValidationError

from injection_cds.fhir import fast as fhir_fast

Json = dict[str, Any]
log = logging.getLogger("injection_cds.fhir.validation")

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


DEFAULT_VALIDATION_CACHE_SIZE = 4096


class _ValidCache:
    """A bounded LRU of the content digests of resources that validated (per process)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._digests: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def resize(self, size: int) -> None:
        with self._lock:
            self.size = max(0, size)
            while len(self._digests) > self.size:
                self._digests.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._digests.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._digests)

    def seen(self, digest: bytes) -> bool:
        with self._lock:
            if digest in self._digests:
                self._digests.move_to_end(digest)
                self.hits += 1
                return True
            self.misses += 1
            return False

    def add(self, digest: bytes) -> None:
        with self._lock:
            if self.size <= 0:
                return
            self._digests[digest] = None
            self._digests.move_to_end(digest)
            while len(self._digests) > self.size:
                self._digests.popitem(last=False)


_VALID = _ValidCache(DEFAULT_VALIDATION_CACHE_SIZE)


def configure_validation_cache(size: int) -> None:
    """Set the number of validated resources this process remembers (0: no cache)."""
    _VALID.resize(size)


_FAST = {"enabled": True}
_STRICT = {"enabled": False}

# The top-level elements the facts are read from (core/extraction/), per resource type. An
# issue anywhere else is tolerated when reading leniently; a type not listed is read strictly.
READ_ELEMENTS: dict[str, frozenset[str]] = {
    "MedicationAdministration": frozenset(
        {
            "id",
            "contained",
            "status",
            "medicationCodeableConcept",
            "medicationReference",
            "subject",
            "context",
            "encounter",
            "effectiveDateTime",
            "effectivePeriod",
            "performer",
            "reasonCode",
            "reasonReference",
            "request",
            "dosage",
            "partOf",
        }
    ),
    "MedicationRequest": frozenset(
        {
            "id",
            "contained",
            "status",
            "intent",
            "medicationCodeableConcept",
            "medicationReference",
            "subject",
            "encounter",
            "authoredOn",
            "reasonCode",
            "reasonReference",
            "dosageInstruction",
        }
    ),
    "Medication": frozenset({"id", "code", "form", "batch", "ingredient"}),
    "Encounter": frozenset(
        {
            "id",
            "status",
            "class",
            "type",
            "serviceType",
            "subject",
            "period",
            "diagnosis",
            "location",
            "partOf",
            "serviceProvider",
        }
    ),
    "Condition": frozenset({"id", "code", "category", "encounter", "subject"}),
    "Coverage": frozenset({"id", "status", "type", "payor", "beneficiary"}),
    "ChargeItem": frozenset({"id", "status", "code", "context", "service", "subject"}),
    "Patient": frozenset({"id", "birthDate"}),
    "Procedure": frozenset({"id", "code", "category", "encounter", "subject"}),
    "Location": frozenset({"id", "name", "type"}),
    "Immunization": frozenset({"id", "education"}),
}


@dataclass(frozen=True)
class LenientNote:
    """A resource read leniently: where it was, and the elements ignored (never a value)."""

    where: str
    resource_type: str
    elements: tuple[str, ...]  # dropped: invalid, and no rule reads them
    issues: tuple[FhirIssue, ...]
    wrapped: tuple[str, ...] = ()  # one object where R4 wants an array: read as [object]
    reference: str | None = None  # "MedicationRequest/abc" when the resource has an id


_NOTES: contextvars.ContextVar[list[LenientNote] | None] = contextvars.ContextVar(
    "injection_cds_lenient_notes", default=None
)
_CALL_STRICT: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "injection_cds_strict", default=None
)


def configure_strict(enabled: bool) -> None:
    """This process's default: refuse every resource that is not valid R4, or read leniently."""
    _STRICT["enabled"] = bool(enabled)


def is_strict() -> bool:
    """Whether resources are read strictly here (every issue is a 422)."""
    strict = _CALL_STRICT.get()
    return _STRICT["enabled"] if strict is None else strict


@contextlib.contextmanager
def leniency_notes(strict: bool | None = None) -> Iterator[list[LenientNote]]:
    """Collect the notes of the resources read leniently within this block.

    ``strict`` (``fhir.strict`` of the service answering) overrides the process default
    for the block.
    """
    notes: list[LenientNote] = []
    token = _NOTES.set(notes)
    mode = _CALL_STRICT.set(strict)
    try:
        yield notes
    finally:
        _CALL_STRICT.reset(mode)
        _NOTES.reset(token)


def configure_fast_validation(enabled: bool) -> None:
    """Ask the structural fast path (``fhir_fast``) before the models, or not."""
    _FAST["enabled"] = bool(enabled)


def validation_cache_info() -> dict[str, int]:
    """Size, entries, hits and misses of this process's validation cache."""
    return {
        "size": _VALID.size,
        "entries": len(_VALID),
        "hits": _VALID.hits,
        "misses": _VALID.misses,
    }


def clear_validation_cache() -> None:
    """Forget every resource validated so far (tests, benchmarks)."""
    _VALID.clear()


def _content_digest(resource: Json) -> bytes | None:
    """BLAKE2b of the canonical JSON (sorted keys); None when it cannot be serialized."""
    try:
        canonical = orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return None
    return hashlib.blake2b(canonical, digest_size=20).digest()


def validate_resource(resource: Any, where: str = "resource") -> Json:
    """Validate one FHIR R4 resource given as parsed JSON; return it (or its lenient copy).

    Raises ``InvalidResource`` when it is not a JSON object, names no or an unknown
    ``resourceType``, or fails R4B validation for any reason other than a missing
    required element. A resource identical in content to one that already validated in this
    process is accepted without validating it again (see the module docstring).
    """
    if _VALID.size <= 0 or not isinstance(resource, dict):
        return _validate(resource, where)
    digest = _content_digest(resource)
    if digest is None:
        return _validate(resource, where)
    if _VALID.seen(digest):
        return resource
    validated = _validate(resource, where)
    if validated is resource:  # a leniently read copy is not remembered as valid
        _VALID.add(digest)
    return validated


def _validate(resource: Any, where: str) -> Json:
    try:
        return _validate_strictly(resource, where)
    except _Refused as refused:
        lenient = None if is_strict() else _pruned(resource, refused)
        if lenient is None:
            raise refused.invalid from None
        pruned, note = lenient
        ident = resource.get("id")
        reference = f"{note.resource_type}/{ident}" if isinstance(ident, str) else None
        note = LenientNote(
            where, note.resource_type, note.elements, note.issues, note.wrapped, reference
        )
        notes = _NOTES.get()
        if notes is not None:
            notes.append(note)
        log.warning(
            "read leniently in %s: dropped %s; read as one-item arrays %s",
            where,
            ", ".join(f"{note.resource_type}.{e}" for e in note.elements) or "nothing",
            ", ".join(f"{note.resource_type}.{e}" for e in note.wrapped) or "nothing",
        )
        return pruned


class _Refused(Exception):
    """A resource the models refused, with what the lenient reader needs to know.

    The issues, the top-level element of each, and the top-level elements that hold one
    object where R4 wants an array.
    """

    def __init__(
        self,
        invalid: InvalidResource,
        elements: tuple[str | None, ...],
        not_arrays: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(str(invalid))
        self.invalid = invalid
        self.elements = elements
        self.not_arrays = not_arrays


def _pruned(resource: Any, refused: _Refused) -> tuple[Json, LenientNote] | None:
    """A copy the rules can read, or None when there is none (the 422 stands).

    One object where R4 wants an array is read as a one-item array (nothing is guessed);
    then the elements still invalid are dropped if no rule reads them.
    """
    if not isinstance(resource, dict) or None in refused.elements:
        return None
    resource_type = str(resource.get("resourceType"))
    read = READ_ELEMENTS.get(resource_type)
    if read is None:
        return None
    wrapped = tuple(
        k for k in resource if k in refused.not_arrays and isinstance(resource[k], dict)
    )
    candidate = {k: ([v] if k in wrapped else v) for k, v in resource.items()}
    dropped: tuple[str, ...] = ()
    for _ in range(2):
        try:
            _validate_strictly(candidate, "resource")
        except InvalidResource:
            return None
        except _Refused as again:
            invalid = tuple(dict.fromkeys(e for e in again.elements if e is not None))
            if dropped or None in again.elements or any(e in read for e in invalid):
                return None
            dropped = invalid
            candidate = {k: v for k, v in candidate.items() if k not in dropped}
            continue
        note = LenientNote("", resource_type, dropped, tuple(refused.invalid.issues), wrapped)
        return candidate, note
    return None


def _validate_strictly(resource: Any, where: str) -> Json:
    if not isinstance(resource, dict):
        raise InvalidResource([FhirIssue(where, "expected a FHIR resource (a JSON object)")])
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise InvalidResource([FhirIssue(where, "missing resourceType")])
    model = _model_class(resource_type)
    if model is None:
        raise InvalidResource([FhirIssue(f"{where}.resourceType", "unknown resource type")])
    if _FAST["enabled"] and fhir_fast.certainly_valid(resource) is True:
        return resource
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
                errors = [err for err in exc.errors() if not _is_missing_required(err)]
                issues = [
                    FhirIssue(
                        f"{where}: " + _location(resource_type, tuple(err["loc"])),
                        _safe_message(err),
                    )
                    for err in errors
                ]
                raise _Refused(
                    InvalidResource(issues or [FhirIssue(where, "invalid resource")]),
                    tuple(_top_element(err) for err in errors) or (None,),
                    frozenset(
                        str(err["loc"][0])
                        for err in errors
                        if err.get("type") == "list_type" and len(err.get("loc", ())) == 1
                    ),
                ) from None
            candidate = filled
    raise InvalidResource([FhirIssue(where, "invalid resource")])


def _top_element(error: Mapping[str, Any]) -> str | None:
    """The top-level element an issue is in (None: the resource as a whole)."""
    loc = tuple(error.get("loc", ()))
    return str(loc[0]) if loc and isinstance(loc[0], str) else None


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


_BUNDLE_TYPES = frozenset(
    {
        "document",
        "message",
        "transaction",
        "transaction-response",
        "batch",
        "batch-response",
        "history",
        "searchset",
        "collection",
    }
)
_SEARCH_MODES = frozenset({"match", "include", "outcome"})
_SHELL_KEYS = frozenset({"resourceType", "id", "type", "total", "entry"})
_ENTRY_KEYS = frozenset({"fullUrl", "resource", "search"})
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_NO_SPACE = re.compile(r"\S+")


def plain_bundle_shell(bundle: Json) -> bool:
    """Whether a Bundle's shell has only elements the R4B Bundle model certainly accepts.

    True only for ``type`` (a Bundle type code), ``id`` (a FHIR id), ``total`` (a
    non-negative 32-bit integer) and entries that are objects of ``fullUrl`` (a string
    without spaces), ``resource`` and ``search`` (``{"mode": match|include|outcome}``). Any
    other shell is not "plain" and is validated with the model (same answer, same issues).
    """
    kind = bundle.get("type")
    if not _SHELL_KEYS.issuperset(bundle) or not (isinstance(kind, str) and kind in _BUNDLE_TYPES):
        return False
    ident = bundle.get("id")
    if ident is not None and not (isinstance(ident, str) and _ID.fullmatch(ident)):
        return False
    total = bundle.get("total")
    if total is not None and not (type(total) is int and 0 <= total < 2**31):
        return False
    entries = bundle.get("entry")
    if entries is None:
        return True
    if not isinstance(entries, list):
        return False
    for entry in entries:
        if not isinstance(entry, dict) or not _ENTRY_KEYS.issuperset(entry):
            return False
        full_url = entry.get("fullUrl")
        if full_url is not None and not (
            isinstance(full_url, str) and _NO_SPACE.fullmatch(full_url)
        ):
            return False
        search = entry.get("search")
        if search is not None and not (
            isinstance(search, dict)
            and search.keys() <= {"mode"}
            and isinstance(mode := search.get("mode", "match"), str)
            and mode in _SEARCH_MODES
        ):
            return False
    return True


def validate_resources(value: Any, where: str) -> list[Json]:
    """Validate a resource or a Bundle of them; return the resources it holds.

    A Bundle's shell is validated apart from its entries' resources, each of which is
    validated on its own, so an issue names the entry it is in.
    """
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        entries = bundle_resources(value)
        if not plain_bundle_shell(value):
            shell = dict(value)
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
