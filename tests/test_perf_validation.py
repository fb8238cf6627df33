"""The validation cache and the hand-checked Bundle shells give the answers of full validation.

Behaviour only (issue 5): with or without the cache, a resource is accepted or refused with
the same issues; a refused resource is never remembered as valid; the cache is bounded; a
Bundle shell is only accepted by hand when the R4B model accepts it too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from injection_cds.config import ConfigError, load_config
from injection_cds.devtools.synthetic import hook_request, request_resources
from injection_cds.fhir import validation as fhir
from injection_cds.web.factory import create_app


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Strict reading: every invalid resource is refused (lenient reading returns a pruned
    # copy instead, never cached: tests/test_lenient_reading.py).
    fhir.configure_strict(True)
    fhir.clear_validation_cache()
    fhir.configure_validation_cache(fhir.DEFAULT_VALIDATION_CACHE_SIZE)
    yield
    fhir.clear_validation_cache()
    fhir.configure_validation_cache(fhir.DEFAULT_VALIDATION_CACHE_SIZE)
    fhir.configure_strict(False)


def _outcome(resource: Any, where: str = "resource") -> tuple[str, Any]:
    try:
        result = fhir.validate_resource(resource, where)
    except fhir.InvalidResource as exc:
        return "invalid", [(i.location, i.message) for i in exc.issues]
    assert result is resource
    return "valid", None


def _resources() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for service in ("injection-charting", "injection-discharge", "injection-order-sign"):
        found.extend(request_resources(hook_request(service, n_administrations=4, seed=11)))
    return found


def _invalid_variants(resource: dict[str, Any]) -> list[dict[str, Any]]:
    unknown = copy.deepcopy(resource)
    unknown["notAnElement"] = 1
    bad_status = copy.deepcopy(resource)
    bad_status["status"] = {"not": "a code"}
    bad_id = copy.deepcopy(resource)
    bad_id["id"] = "has spaces and / slashes"
    return [unknown, bad_status, bad_id]


def test_cache_gives_the_same_answers_as_full_validation() -> None:
    cases = []
    for resource in _resources():
        cases.append(resource)
        cases.extend(_invalid_variants(resource))
    fhir.configure_validation_cache(0)
    uncached = [_outcome(r) for r in cases]
    assert fhir.validation_cache_info()["entries"] == 0
    fhir.configure_validation_cache(4096)
    first = [_outcome(r) for r in cases]
    again = [_outcome(copy.deepcopy(r)) for r in cases]  # equal content, new objects: hits
    assert first == uncached
    assert again == uncached
    assert {o for o, _ in uncached} == {"valid", "invalid"}
    assert fhir.validation_cache_info()["hits"] > 0


def test_an_invalid_resource_is_never_cached_valid() -> None:
    resource = next(r for r in _resources() if r["resourceType"] == "MedicationAdministration")
    assert _outcome(resource)[0] == "valid"
    for variant in _invalid_variants(resource):
        for _ in range(3):
            assert _outcome(variant)[0] == "invalid"
    assert fhir.validation_cache_info()["entries"] == 1
    # The same content with the keys in another order is the same resource: a hit.
    reordered = dict(reversed(list(resource.items())))
    hits = fhir.validation_cache_info()["hits"]
    assert _outcome(reordered)[0] == "valid"
    assert fhir.validation_cache_info()["hits"] == hits + 1


def test_value_types_are_part_of_the_key() -> None:
    """``true``, ``"true"``, ``1`` and ``1.5`` are different contents, each judged on its own."""
    patient = {"resourceType": "Patient", "id": "p1", "active": True}
    assert _outcome(patient)[0] == "valid"
    for value in ("true", 1, 1.5, "yes", None, [True]):
        variant = {"resourceType": "Patient", "id": "p1", "active": value}
        assert _outcome(variant) == _outcome_uncached(variant)
    bad = {"resourceType": "Patient", "id": "p1", "active": [True]}
    assert _outcome(bad)[0] == "invalid"


def _outcome_uncached(resource: dict[str, Any]) -> tuple[str, Any]:
    size = fhir.validation_cache_info()["size"]
    fhir.configure_validation_cache(0)
    try:
        return _outcome(resource)
    finally:
        fhir.configure_validation_cache(size)


def test_cache_is_bounded_and_can_be_turned_off() -> None:
    fhir.configure_validation_cache(3)
    for n in range(10):
        assert _outcome({"resourceType": "Patient", "id": f"p{n}"})[0] == "valid"
    assert fhir.validation_cache_info()["entries"] == 3
    fhir.configure_validation_cache(0)
    assert fhir.validation_cache_info()["entries"] == 0
    assert _outcome({"resourceType": "Patient", "id": "p0"})[0] == "valid"
    assert fhir.validation_cache_info()["entries"] == 0


def test_configuration_sets_the_cache_size(tmp_path: Any) -> None:
    assert load_config({})["fhir"]["validation_cache_size"] == 4096
    env = {"INJECTION_CDS_FHIR_VALIDATION_CACHE_SIZE": "7"}
    assert load_config({}, environ=env)["fhir"]["validation_cache_size"] == 7
    with pytest.raises(ConfigError, match="validation_cache_size"):
        load_config({"fhir": {"validation_cache_size": -1}})
    create_app({"instance_dir": str(tmp_path), "fhir": {"validation_cache_size": 12}})
    assert fhir.validation_cache_info()["size"] == 12


# --- Bundle shells ---------------------------------------------------------------------------
def _shells() -> list[dict[str, Any]]:
    entry = {"fullUrl": "https://x/fhir/Patient/1", "search": {"mode": "match"}}
    base: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": 1}
    variants: list[dict[str, Any]] = [
        {**base},
        {**base, "entry": [entry]},
        {**base, "entry": []},
        {**base, "id": "b-1.x"},
        {**base, "id": "bad id"},
        {**base, "id": 5},
        {**base, "total": -1},
        {**base, "total": True},
        {**base, "total": "1"},
        {**base, "total": 2**31},
        {**base, "type": "bogus"},
        {"resourceType": "Bundle"},
        {**base, "meta": {"lastUpdated": "not a time"}},
        {**base, "timestamp": "2026-01-01T00:00:00Z"},
        {**base, "unknown": 1},
        {**base, "entry": "nope"},
        {**base, "entry": [{"fullUrl": "a b"}]},
        {**base, "entry": [{"fullUrl": ""}]},
        {**base, "entry": [{"fullUrl": 3}]},
        {**base, "entry": [{"search": {"mode": "bogus"}}]},
        {**base, "entry": [{"search": {"mode": "match", "score": "x"}}]},
        {**base, "entry": [{"search": "match"}]},
        {**base, "entry": [{"search": {"mode": ["match"]}}]},
        {**base, "entry": [{"search": {"mode": {"a": 1}}}]},
        {**base, "type": ["searchset"]},
        {**base, "type": {"a": 1}},
        {**base, "entry": [None]},
        {**base, "entry": [{"resource": 2**70}]},
        {**base, "entry": [{"request": {"method": "GET", "url": "Patient/1"}}]},
        {**base, "entry": [{"unknown": 1}]},
        {**base, "entry": [{}]},
    ]
    return variants


@pytest.mark.parametrize("shell", _shells())
def test_a_plain_shell_is_one_the_model_accepts(shell: dict[str, Any]) -> None:
    fhir.configure_validation_cache(0)
    if fhir.plain_bundle_shell(shell):
        stripped = dict(shell)
        if shell.get("entry"):
            stripped["entry"] = [
                {k: v for k, v in e.items() if k != "resource"} for e in shell["entry"]
            ]
        assert _outcome(stripped)[0] == "valid"


@pytest.mark.parametrize("shell", _shells())
def test_bundles_validate_as_before(shell: dict[str, Any]) -> None:
    """``validate_resources`` answers as validating the whole shell with the model did."""
    fhir.configure_validation_cache(0)
    patient = {"resourceType": "Patient", "id": "p1"}
    bundle = copy.deepcopy(shell)
    if isinstance(bundle.get("entry"), list):
        for entry in bundle["entry"]:
            if isinstance(entry, dict) and "resource" not in entry:
                entry["resource"] = patient
    try:
        got: Any = fhir.validate_resources(bundle, "prefetch.x")
    except fhir.InvalidResource as exc:
        got = [(i.location, i.message) for i in exc.issues]
    # What the model says of the shell, then of each resource (the behaviour before).
    model_shell = dict(bundle)
    if isinstance(bundle.get("entry"), list):
        model_shell["entry"] = [
            {k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e
            for e in bundle["entry"]
        ]
        if not model_shell["entry"]:
            del model_shell["entry"]
    try:
        fhir.bundle_resources(bundle)
        fhir._validate(model_shell, "prefetch.x")
        expected: Any = [
            fhir._validate(r, f"prefetch.x.entry[{n}].resource")
            for n, r in enumerate(fhir.bundle_resources(bundle))
        ]
    except fhir.InvalidResource as exc:
        expected = [(i.location, i.message) for i in exc.issues]
    assert got == expected
