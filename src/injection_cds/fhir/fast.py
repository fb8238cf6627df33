"""A conservative structural fast path in front of the fhir.resources (R4B) validation.

``certainly_valid(resource)`` answers ``True`` only when the R4B model would accept the
resource with no error at all, and ``None`` ("not sure") otherwise. It never says "invalid":
on ``None`` the caller runs the full model validation, which gives the answer and the issues.

The checker is compiled lazily, once per model class, from the models' own metadata:

- the elements a model accepts (``model_fields``, by their JSON alias only; ``fhir_comments``
  and field names that differ from their alias are not accepted here), list or single;
- each primitive element's value is checked with a pydantic ``TypeAdapter`` of the model
  field's own annotation, i.e. with fhir_core's own primitive types, regexes and validators
  (results memoised per (element type, value) in a bounded dict);
- complex elements recurse into the model class fhir_core would use; ``contained`` and
  ``Bundle.entry.resource`` pick the class by ``resourceType`` exactly as fhir_core does;
- required elements (pydantic-required and the models' ``get_required_fields``) must be
  present with a value (the placeholder logic of ``fhir.py`` is left to the full path);
- choice groups (``get_one_of_many_fields``): at most one present, one if required;
- ``_element`` siblings of single primitives: ``{"extension": [...]}`` (optionally ``id``).

Anything else — an unknown key, a null, an empty string/array/object, a JSON type the
element does not take, a list of primitive extensions, a type this module does not model,
nesting deeper than ``MAX_DEPTH`` — makes it answer ``None``.
"""

from __future__ import annotations

import threading
import typing
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

MAX_DEPTH = 24
_MEMO_LIMIT = 1 << 16

_PRIM = 1  # a primitive, checked with the field's own TypeAdapter
_COMPLEX = 2  # a nested element model
_RESOURCE = 3  # a resource chosen by its resourceType (contained, Bundle.entry.resource)
_PRIM_EXT = 4  # a ``_element`` sibling (FHIRPrimitiveExtension)

_SCALARS = (str, bool, int, float)


@dataclass
class _Field:
    kind: int
    many: bool
    adapter: Any = None  # TypeAdapter of the field annotation (primitives)
    model: Any = None  # model class (complex)
    prefix: str = ""  # fhir_core FHIR_TYPES_MAPS prefix (resources)


@dataclass
class _Spec:
    resource_type: str
    is_resource: bool
    fields: dict[str, _Field] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    choices: tuple[tuple[tuple[str, ...], bool], ...] = ()
    prim_ext: bool = False


_lock = threading.RLock()
_specs: dict[Any, _Spec | None] = {}
_memo: dict[tuple[Any, ...], bool] = {}


def _non_none_args(annotation: Any) -> list[Any]:
    return [arg for arg in typing.get_args(annotation) if arg is not type(None)]


def _unwrap(annotation: Any) -> tuple[bool, Any] | None:
    """(is_list, item type) of ``X | None`` / ``list[X] | None``; None when anything else."""
    many = False
    current = annotation
    for _ in range(6):
        origin = typing.get_origin(current)
        if origin is list:
            if many:
                return None
            many = True
            args = typing.get_args(current)
            if len(args) != 1:
                return None
            current = args[0]
            continue
        if origin is typing.Union or (origin is not None and type(current).__name__ == "UnionType"):
            members = _non_none_args(current)
            if len(members) != 1:
                return None
            current = members[0]
            continue
        return many, current
    return None


def _compile_field(field_info: Any) -> _Field | None:
    from fhir_core.types import FhirBase, FhirElementOrResourceBase
    from fhir_core.utils import is_primitive_type
    from pydantic import TypeAdapter

    shape = _unwrap(field_info.annotation)
    if shape is None:
        return None
    many, item = shape
    if is_primitive_type(field_info):
        if isinstance(item, type) and issubclass(item, FhirBase):
            return None
        annotation: Any = field_info.annotation
        if field_info.metadata:
            annotation = typing.Annotated[(annotation, *field_info.metadata)]
        return _Field(_PRIM, many, adapter=TypeAdapter(annotation))
    if not (isinstance(item, type) and issubclass(item, FhirBase)):
        return None
    model = item.get_model_klass()
    if issubclass(item, FhirElementOrResourceBase):
        if model.__name__ != "Resource":
            return None
        return _Field(_RESOURCE, many, prefix=item._prefix)
    if model.__name__ == "FHIRPrimitiveExtension":
        return None if many else _Field(_PRIM_EXT, False, model=model)
    return _Field(_COMPLEX, many, model=model)


def _compile(model: Any) -> _Spec | None:
    try:
        fields = model.model_fields
        names = set(fields)
        spec = _Spec(
            resource_type=model.get_resource_type(),
            is_resource=bool(model.has_resource_base()),
            prim_ext=model.__name__ == "FHIRPrimitiveExtension",
        )
        by_name: dict[str, str] = {}
        required: list[str] = []
        for name, info in fields.items():
            if name == "fhir_comments":
                continue
            alias = info.alias or name
            if alias != name and alias in names:
                return None  # an alias that is another field's name: too subtle here
            if alias == "resourceType":
                return None
            compiled = _compile_field(info)
            by_name[name] = alias
            if info.is_required():
                if compiled is None:
                    return None
                required.append(alias)
            if compiled is not None:
                spec.fields[alias] = compiled
        for name, _ext in model.get_required_fields(None):  # does not use ``self``
            alias = by_name.get(name)
            if alias is None:
                return None
            required.append(alias)
        choices: list[tuple[tuple[str, ...], bool]] = []
        for group in model.get_one_of_many_fields(None).values():
            aliases = tuple(by_name[name] for name in group)
            extra = fields[group[0]].json_schema_extra or {}
            choices.append((aliases, extra.get("one_of_many_required") is True))
        spec.required = tuple(dict.fromkeys(required))
        spec.choices = tuple(choices)
        if spec.prim_ext and set(spec.fields) != {"id", "extension"}:
            return None
        return spec
    except Exception:  # any surprise in the metadata: this type is never fast-pathed
        return None


def _spec(model: Any) -> _Spec | None:
    try:
        return _specs[model]
    except KeyError:
        pass
    with _lock:
        if model not in _specs:
            _specs[model] = _compile(model)
        return _specs[model]


@lru_cache(maxsize=256)
def _top_model(resource_type: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError, ImportError):
        return None


@lru_cache(maxsize=512)
def _contained_model(prefix: str, resource_type: str) -> Any:
    """The class fhir_core itself picks for a polymorphic Resource element."""
    from fhir_core.constraints import FHIR_TYPES_MAPS
    from pydantic._internal._validators import import_string

    path = FHIR_TYPES_MAPS.get(prefix + resource_type + "Type")
    if not isinstance(path, str):
        return None
    try:
        return import_string(path)
    except Exception:
        return None


def _prim_ok(spec_field: _Field, value: Any) -> bool:
    if spec_field.many:
        if type(value) is not list or not value:
            return False
        for item in value:
            if type(item) not in _SCALARS or item == "":
                return False
        key: tuple[Any, ...] = (id(spec_field), tuple((type(v), v) for v in value))
    else:
        if type(value) not in _SCALARS or value == "":
            return False
        key = (id(spec_field), type(value), value)
    known = _memo.get(key)
    if known is not None:
        return known
    try:
        spec_field.adapter.validate_python(value)
        ok = True
    except Exception:
        ok = False
    if len(_memo) >= _MEMO_LIMIT:
        _memo.clear()
    _memo[key] = ok
    return ok


def _resource_ok(prefix: str, value: Any, depth: int) -> bool:
    if type(value) is not dict:
        return False
    resource_type = value.get("resourceType")
    if type(resource_type) is not str or not resource_type:
        return False
    model = _contained_model(prefix, resource_type)
    if model is None:
        return False
    spec = _spec(model)
    if spec is None or not spec.is_resource or spec.resource_type != resource_type:
        return False
    return _object_ok(spec, value, depth + 1)


def _object_ok(spec: _Spec, value: Any, depth: int) -> bool:
    if type(value) is not dict or not value or depth > MAX_DEPTH:
        return False
    fields = spec.fields
    for key, item in value.items():
        if key == "resourceType":
            if not spec.is_resource or item != spec.resource_type:
                return False
            continue
        spec_field = fields.get(key)
        if spec_field is None or item is None:
            return False
        kind = spec_field.kind
        if kind == _PRIM:
            if not _prim_ok(spec_field, item):
                return False
        elif kind == _COMPLEX:
            child = _spec(spec_field.model)
            if child is None:
                return False
            if spec_field.many:
                if type(item) is not list or not item:
                    return False
                for element in item:
                    if not _object_ok(child, element, depth + 1):
                        return False
            elif not _object_ok(child, item, depth + 1):
                return False
        elif kind == _RESOURCE:
            if spec_field.many:
                if type(item) is not list or not item:
                    return False
                for element in item:
                    if not _resource_ok(spec_field.prefix, element, depth):
                        return False
            elif not _resource_ok(spec_field.prefix, item, depth):
                return False
        elif kind == _PRIM_EXT:
            child = _spec(spec_field.model)
            if child is None or type(item) is not dict or "extension" not in item:
                return False
            if not _object_ok(child, item, depth + 1):
                return False
        else:
            return False
    for alias in spec.required:
        if alias not in value:
            return False
    for group, required in spec.choices:
        present = sum(1 for alias in group if alias in value)
        if present > 1 or (required and present == 0):
            return False
    return not (spec.prim_ext and "extension" not in value)


def certainly_valid(resource: Any) -> bool | None:
    """True when the R4B model certainly accepts ``resource`` as is; None when not sure."""
    if type(resource) is not dict:
        return None
    resource_type = resource.get("resourceType")
    if type(resource_type) is not str or not resource_type:
        return None
    model = _top_model(resource_type)
    if model is None:
        return None
    spec = _spec(model)
    if spec is None or not spec.is_resource or spec.resource_type != resource_type:
        return None
    try:
        return True if _object_ok(spec, resource, 0) else None
    except Exception:  # never let the fast path decide by crashing
        return None
