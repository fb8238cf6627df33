"""A visit's charge lines are computed once per call, and memoising changes no answer (issue 5)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from injection_cds.core import billing
from injection_cds.core.context import RuleContext
from injection_cds.core.extract import ResourceIndex, visit_facts
from injection_cds.devtools.synthetic import generate_encounter, hook_request
from injection_cds.protocol import pipeline
from injection_cds.web.factory import create_app

MEMOISED = (
    billing.sc_im_injections,
    billing.injection_lines,
    billing.iv_lines,
    billing.vaccine_administrations,
    billing.vaccine_lines,
    billing.antineoplastic_lines,
    billing.allergen_lines,
)


def _visits(count: int) -> list[Any]:
    import random

    visits = []
    for seed in range(count):
        resources = generate_encounter(random.Random(seed), 6, contained=seed % 2 == 0)
        index = ResourceIndex()
        for group in resources.values():
            for resource in group if isinstance(group, list) else [group]:
                if isinstance(resource, dict) and "resourceType" in resource:
                    index.add(resource)
        administrations = resources["administrations"]
        visits.append(
            visit_facts(
                "medicationadministration-sign",
                index,
                administrations=administrations,
                orders=[],
                encounter_id=resources["encounter"]["id"],
                patient_id=resources["patient"]["id"],
                default_payer_class="commercial",
            )
        )
    return visits


@pytest.mark.parametrize("compute", MEMOISED, ids=lambda f: f.__name__)
def test_memoised_answers_equal_fresh_ones(compute: Any) -> None:
    ctx = RuleContext()
    for visit in _visits(12):
        first = compute(visit, ctx)
        again = compute(visit, ctx)
        assert first == again == compute.__wrapped__(visit, ctx)
        assert first is not again  # each caller gets its own list
        first.append("mutated by a caller")
        assert compute(visit, ctx) == again


def test_another_visit_or_context_is_not_answered_from_the_memo() -> None:
    visits = _visits(3)
    ctx = RuleContext()
    other_ctx = RuleContext(settings=dataclasses.replace(ctx.settings))
    for visit in visits:
        billing.injection_lines(visit, ctx)
    for visit in visits:
        equal_copy = dataclasses.replace(visit)
        assert billing.injection_lines(equal_copy, ctx) == billing.injection_lines(visit, ctx)
        assert billing.injection_lines(visit, other_ctx) == billing.injection_lines(visit, ctx)


def test_drug_lines_are_built_once_per_call(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    app = create_app({"instance_dir": str(tmp_path)})
    ctx = app.extensions["injection_cds.rule_context"]
    calls: list[str] = []
    real = billing.drug_line

    def counting(administration: Any, visit: Any, ctx: Any) -> Any:
        calls.append(administration.reference)
        return real(administration, visit, ctx)

    monkeypatch.setattr(billing, "drug_line", counting)
    total = 0
    for seed in range(6):
        body = hook_request("injection-discharge", n_administrations=8, seed=seed)
        calls.clear()
        pipeline.call_service("injection-discharge", body, ctx=ctx, base_url="http://127.0.0.1")
        assert len(calls) == len(set(calls)), calls  # each drug line built once per call
        total += len(calls)
    assert total > 0
