"""The structural fast path is never more permissive than the fhir.resources models.

Differential tests: whenever ``fhir_fast.certainly_valid`` says True, the R4B model itself
(called directly: no fast path, no cache, no placeholders for missing elements) accepts the
resource. Over every resource of the fixtures, the external data sets (when present), the
synthetic generator's output, and a seeded mutation fuzzer. Coverage (the share of real,
valid resources the fast path accepts) is checked and printed (``pytest -s``).
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from injection_cds.devtools import synthetic
from injection_cds.fhir import fast as fhir_fast

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
EXTERNAL = ROOT.parent / "shared" / "data" / "external"
Json = dict[str, Any]


def _model_accepts(resource: Any) -> bool:
    """The full R4B model validation of ``resource`` as is (strict: no placeholders)."""
    from fhir.resources.R4B import get_fhir_model_class

    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return False
    try:
        model = get_fhir_model_class(resource["resourceType"])
        model.model_validate(copy.deepcopy(resource))
    except Exception:
        return False
    return True


def _walk(value: Any) -> Iterator[Json]:
    if isinstance(value, dict):
        if isinstance(value.get("resourceType"), str):
            yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _fixture_resources() -> list[Json]:
    found: list[Json] = []
    for path in sorted(FIXTURES.rglob("*.json")):
        try:
            found.extend(_walk(json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, UnicodeDecodeError):
            continue
    return found


def _external_resources() -> list[Json]:
    found: list[Json] = []
    for path in sorted(EXTERNAL.glob("*/*.ndjson")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.extend(_walk(json.loads(line)))
    return found


@pytest.fixture(scope="module")
def synthetic_resources(tmp_path_factory: pytest.TempPathFactory) -> list[Json]:
    out = tmp_path_factory.mktemp("bulk")
    synthetic.write_bulk_ndjson(out, 600, seed=11)
    found: list[Json] = []
    for path in sorted(out.glob("*.ndjson")):
        found.extend(json.loads(line) for line in path.read_text().splitlines() if line)
    for seed, service in enumerate(
        ("injection-charting", "injection-discharge", "injection-order-sign")
    ):
        for n in (1, 4):
            found.extend(_walk(synthetic.hook_request(service, n_administrations=n, seed=seed)))
    return found


def _differential(resources: list[Json], label: str, min_coverage: float) -> None:
    accepted = valid = 0
    for resource in resources:
        before = copy.deepcopy(resource)
        fast = fhir_fast.certainly_valid(resource)
        assert fast in (True, None)
        assert resource == before, "the fast path must not change its input"
        full = _model_accepts(resource)
        if fast:
            assert full, f"fast path more permissive than the model on {label}: {resource}"
            accepted += 1
        valid += full
    coverage = accepted / valid if valid else 1.0
    print(
        f"\n{label}: {len(resources)} resources, {valid} valid, fast path accepts "
        f"{accepted} ({coverage:.1%} of the valid ones)"
    )
    assert coverage >= min_coverage


def test_fixtures_differential() -> None:
    resources = _fixture_resources()
    assert resources
    _differential(resources, "fixtures", 0.9)


def test_external_differential() -> None:
    if not EXTERNAL.is_dir() or not any(EXTERNAL.glob("*/*.ndjson")):
        pytest.skip("../shared/data/external is not here")
    _differential(_external_resources(), "external", 0.9)


def test_synthetic_differential(synthetic_resources: list[Json]) -> None:
    _differential(synthetic_resources, "synthetic", 0.95)


def test_basic_doubts_fall_through() -> None:
    good = {
        "resourceType": "Patient",
        "id": "p1",
        "birthDate": "1970-01-02",
        "name": [{"family": "Doe", "given": ["Jo"]}],
    }
    assert fhir_fast.certainly_valid(good) is True
    for bad in (
        None,
        [],
        "Patient",
        {},
        {"resourceType": "NoSuchType"},
        {"resourceType": 5},
        {**good, "unknown": 1},
        {**good, "birthDate": None},
        {**good, "birthDate": ""},
        {**good, "birthDate": "1970-13-40"},
        {**good, "name": []},
        {**good, "name": [{}]},
        {**good, "name": [None]},
        {**good, "fhir_comments": "x"},
        {**good, "_birthDate": {}},
        {**good, "_birthDate": {"extension": []}},
        {**good, "extension": [{"valueString": "no url"}]},
        {**good, "contained": [{"resourceType": "CodeableConcept", "text": "x"}]},
        {**good, "contained": [{"resourceType": "Nope"}]},
    ):
        assert fhir_fast.certainly_valid(bad) is None, bad
    both = {
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "x"},
        "effectiveDateTime": "2024-01-01T10:00:00Z",
    }
    assert fhir_fast.certainly_valid(both) is True
    assert fhir_fast.certainly_valid({**both, "effectivePeriod": {"start": "2024"}}) is None
    missing = dict(both)
    del missing["effectiveDateTime"]
    assert fhir_fast.certainly_valid(missing) is None  # placeholders: the full path decides
    assert fhir_fast.certainly_valid({**both, "_birthDate": {"extension": []}}) is None


# ---- the mutation fuzzer -------------------------------------------------------------------

_ODD_VALUES: list[Any] = [
    None,
    "",
    " ",
    "x",
    "a  b",
    " lead",
    "trail ",
    "line\nbreak",
    "tab\t",
    "\x00",
    "x" * 70,
    "not a uri",
    "urn:uuid:1",
    "2024-13-45",
    "2024-02-30",
    "2024-01-01T25:00:00Z",
    "2024-01-01T10:00:00",
    "2024-01-01T10:00:60Z",
    "20240101",
    "1.2.3",
    "1e5",
    "NaN",
    "true",
    "-1",
    "0",
    "1.0",
    "a_b",
    "Patient/",
    "#",
    0,
    1,
    -1,
    2**40,
    1.5,
    -0.0,
    1e400,
    True,
    False,
    {},
    [],
    [None],
    [{}],
    {"x": 1},
    {"extension": []},
    [1, 2],
    ["a"],
    {"url": "http://x"},
]
_DATE_KEYS = ("date", "Date", "DateTime", "start", "end", "issued", "authoredOn", "recorded")
_BAD_DATES = [
    "",
    "2024-13-01",
    "2024-02-30",
    "24-01-01",
    "2024-01-01T10:00",
    "2024/01/01",
    "2024-01-01T10:00:00+25:00",
    "2024-01-01 10:00:00",
    20240101,
    "now",
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from _paths(item, (*prefix, index))


def _containers(value: Any) -> Iterator[Any]:
    if isinstance(value, (dict, list)):
        yield value
        for item in value.values() if isinstance(value, dict) else value:
            yield from _containers(item)


def _get(root: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        root = root[part]
    return root


def _set(root: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(root, path[:-1])[path[-1]] = value


def _mutate(resource: Json, rng: random.Random) -> Json:
    doc = copy.deepcopy(resource)
    for _ in range(rng.randint(1, 3)):
        paths = list(_paths(doc))
        dicts = [c for c in _containers(doc) if isinstance(c, dict)]
        lists = [c for c in _containers(doc) if isinstance(c, list)]
        op = rng.randrange(14)
        if op == 0 and paths:  # change a value's JSON type / value
            path = rng.choice(paths)
            if path != ("resourceType",):
                _set(doc, path, copy.deepcopy(rng.choice(_ODD_VALUES)))
        elif op == 1 and dicts:  # unknown key
            rng.choice(dicts)[
                rng.choice(
                    [
                        "foo",
                        "Status",
                        "class_fhir",
                        "fhir_comments",
                        "resourceType",
                        "_foo",
                        "valueFoo",
                    ]
                )
            ] = "x"
        elif op == 2:  # both choices
            doc["effectivePeriod"] = {"start": "2024-01-01"}
            doc.setdefault("effectiveDateTime", "2024-01-01")
            if rng.random() < 0.5:
                doc["medicationReference"] = {"reference": "Medication/x"}
        elif op == 3 and paths:  # empty string / array / object
            path = rng.choice(paths)
            if path != ("resourceType",):
                _set(doc, path, rng.choice(["", [], {}]))
        elif op == 4:  # invalid dates
            keys = [p for p in paths if isinstance(p[-1], str) and p[-1].endswith(_DATE_KEYS)]
            if keys:
                _set(doc, rng.choice(keys), rng.choice(_BAD_DATES))
        elif op == 5:  # contained with a wrong / odd resourceType
            kind = rng.choice(
                [
                    "CodeableConcept",
                    "Nope",
                    "",
                    5,
                    None,
                    "Bundle",
                    "Patient",
                    "Resource",
                    "DomainResource",
                    "Element",
                    "Extension",
                ]
            )
            item: Json = {"resourceType": kind, "id": "c1"}
            contained = doc.get("contained")
            # an earlier mutation may have turned the list or its first item into a scalar
            if (
                rng.random() < 0.5
                and isinstance(contained, list)
                and contained
                and (isinstance(contained[0], dict))
            ):
                contained[0]["resourceType"] = kind
            elif isinstance(contained, list):
                contained.append(item)
            else:
                doc["contained"] = [item]
        elif op == 6 and lists:  # nested null in a list
            target = rng.choice(lists)
            target.insert(rng.randint(0, len(target)), None)
        elif op == 7:  # extensions: no url, two values, url only, deep nesting
            ext = rng.choice(
                [
                    {"valueString": "no url"},
                    {"url": "http://x", "valueString": "a", "valueBoolean": True},
                    {"url": "http://x"},
                    {"url": "", "valueString": "a"},
                    {"url": "http://x", "valueString": None},
                    {"url": "http://x", "extension": []},
                    {"url": "http://x", "valueDecimal": "1.0"},
                    {"url": "http://x", "valueQuantity": {"value": "x"}},
                ]
            )
            holder = rng.choice(dicts) if dicts and rng.random() < 0.5 else doc
            holder.setdefault("extension", []).append(copy.deepcopy(ext))
        elif op == 8:  # primitive extension siblings
            key = rng.choice(
                [
                    "_birthDate",
                    "_status",
                    "_id",
                    "_gender",
                    "_effectiveDateTime",
                    "_code",
                    "_system",
                ]
            )
            shape = rng.choice(
                [
                    {},
                    {"extension": []},
                    {"id": "a"},
                    "x",
                    [],
                    None,
                    {"extension": [{"url": "http://x", "valueString": "y"}]},
                    {"extension": [{"valueString": "y"}]},
                    {"foo": 1},
                    [{"extension": [{"url": "http://x", "valueCode": "y"}]}],
                ]
            )
            holder = rng.choice(dicts) if dicts and rng.random() < 0.3 else doc
            holder[key] = copy.deepcopy(shape)
        elif op == 9:  # decimals / integers / booleans in odd forms
            numbers = [p for p in paths if isinstance(_get(doc, p), (int, float, bool))]
            if numbers:
                _set(
                    doc,
                    rng.choice(numbers),
                    rng.choice(["1.0", "abc", True, None, 1e400, float("nan"), -5, 2**63, [1], {}]),
                )
        elif op == 10:  # codes, ids, uris, strings
            strings = [p for p in paths if isinstance(_get(doc, p), str) and p != ("resourceType",)]
            if strings:
                _set(
                    doc,
                    rng.choice(strings),
                    rng.choice(
                        [
                            "a  b",
                            " x",
                            "x ",
                            "x" * 65,
                            "a_b",
                            "not a uri",
                            "\x01",
                            "é",
                            "a\nb",
                            "http://x y",
                            "urn:oid:",
                            "1",
                            "-",
                            ".",
                        ]
                    ),
                )
        elif op == 11:  # drop a key (required elements, choices)
            if dicts:
                holder = rng.choice(dicts)
                if holder:
                    holder.pop(rng.choice(list(holder)), None)
        elif op == 12 and paths:  # list <-> single
            path = rng.choice(paths)
            value = _get(doc, path)
            if isinstance(value, list) and value:
                _set(doc, path, value[0])
            elif path != ("resourceType",):
                _set(doc, path, [value])
        elif op == 13:  # deep extension nesting
            nested: Json = {"url": "http://x", "valueString": "leaf"}
            for _ in range(rng.randint(5, 40)):
                nested = {"url": "http://x", "extension": [nested]}
            doc.setdefault("extension", []).append(nested)
    return doc


def test_mutation_fuzzer(synthetic_resources: list[Json]) -> None:
    rng = random.Random(20261125)
    bases = [r for r in synthetic_resources + _fixture_resources() if _model_accepts(r)]
    if EXTERNAL.is_dir():
        external = [r for r in _external_resources() if _model_accepts(r)]
        bases += rng.sample(external, min(len(external), 400))
    deadline = time.monotonic() + 60
    mutants = fast_true = full_true = 0
    while mutants < 6000 and time.monotonic() < deadline:
        mutant = _mutate(rng.choice(bases), rng)
        mutants += 1
        fast = fhir_fast.certainly_valid(mutant)
        assert fast in (True, None)
        full = _model_accepts(mutant)
        full_true += full
        if fast:
            fast_true += 1
            assert full, f"fast path more permissive than the model: {mutant!r}"[:4000]
    print(
        f"\nfuzzer: {mutants} mutants, model accepts {full_true}, fast path accepts "
        f"{fast_true}, more permissive: 0"
    )
    assert mutants >= 2000
    assert fast_true > 0  # the fuzzer does exercise the True answers
