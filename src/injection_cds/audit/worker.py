"""The work done in worker processes: pass 1 (parse, validate, classify) and pass 2 (rules).

Pass 2 runs exactly the service's path for a discharge: ``ResourceIndex`` over the group's
resources, ``visit_facts(hook="encounter-discharge", ...)``, ``evaluate_visit``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from injection_cds.audit.grouping import Source, department, group_resources
from injection_cds.audit.reader import Chunk, Skipped
from injection_cds.audit.store import NO_ENCOUNTER, StoreReader, StoreRow, classify
from injection_cds.core.context import RuleContext
from injection_cds.core.extract import visit_facts
from injection_cds.core.extraction.index import ResourceIndex
from injection_cds.core.pipeline import evaluate_visit
from injection_cds.fhir.validation import InvalidResource, validate_resource

HOOK = "encounter-discharge"


@dataclass
class Ingested:
    """What pass 1 made of one chunk."""

    rows: list[StoreRow] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    types: Counter[str] = field(default_factory=Counter)


def ingest_chunk(chunk: Chunk) -> Ingested:
    """Parse and validate each record of a chunk; keep the valid ones as store rows."""
    out = Ingested()
    for line, raw in chunk.records:
        outcome = ingest_record(chunk.file, line, raw)
        if isinstance(outcome, Skipped):
            out.skipped.append(outcome)
            continue
        resource, row = outcome
        out.types[str(resource["resourceType"])] += 1
        if row is not None:
            out.rows.append(row)
    return out


def ingest_record(
    file: str, line: str, raw: bytes
) -> Skipped | tuple[dict[str, Any], StoreRow | None]:
    """One record: why it is skipped, or the valid resource and its store row (both engines)."""
    try:
        resource = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return Skipped(file, line, "invalid JSON")
    try:
        validate_resource(resource, f"line {line}")
    except InvalidResource as exc:
        reason = "invalid FHIR: " + "; ".join(
            f"{issue.location.split(': ', 1)[-1]}: {issue.message}" for issue in exc.issues[:3]
        )
        return Skipped(file, line, reason)
    return resource, classify(resource, file, line, raw.strip())


@dataclass(frozen=True, slots=True)
class AdministrationResult:
    """One administration as the worklist and report show it."""

    reference: str
    drug: str
    when: str
    candidate: bool  # a billable candidate (completed, given by injection)


@dataclass(frozen=True, slots=True)
class FindingResult:
    """One finding, with its data serialised (JSON bytes)."""

    rule: str
    severity: str
    resource: str
    element: str
    message: str
    data: bytes


@dataclass(frozen=True, slots=True)
class GroupResult:
    """The audit of one encounter group."""

    encounter: str | None
    department: str
    administrations: list[AdministrationResult]
    findings: list[FindingResult]
    error: str | None = None  # the rules failed on this group (a bug to report, not data)


_state: dict[str, Any] = {}


def init_evaluate(store_path: Path, ctx: RuleContext) -> None:
    """Open the store for this process (a pool initializer)."""
    previous = _state.get("reader")
    if previous is not None:
        previous.close()
    _state["reader"] = StoreReader(store_path)
    _state["ctx"] = ctx


def close_evaluate() -> None:
    """Close this process's store connection (in-process runs)."""
    reader = _state.pop("reader", None)
    if reader is not None:
        reader.close()


def evaluate_range(task: tuple[str, str, int]) -> list[GroupResult]:
    """Audit every encounter group in ``[first, last]``."""
    reader: StoreReader = _state["reader"]
    ctx: RuleContext = _state["ctx"]
    first, last, _ = task
    return [
        audit_group_safely(reader, ctx, group, members)
        for group, members in reader.groups(first, last)
    ]


def audit_group_safely(
    source: Source, ctx: RuleContext, group: str, administrations: list[Any]
) -> GroupResult:
    """``audit_group``, with a failure of the rules reported on the group instead of raised."""
    try:
        return audit_group(source, ctx, group, administrations)
    except Exception as exc:  # noqa: BLE001 - one bad group must not end a night's run
        return GroupResult(group, "(not audited)", [], [], type(exc).__name__)


def audit_group(
    source: Source, ctx: RuleContext, group: str, administrations: list[Any]
) -> GroupResult:
    """Run the service's rules over one encounter group (the one function both engines call).

    ``source`` answers the group's look-ups: the spill store locally, the group's gathered
    resources in the Spark engine; ``administrations`` are in key order.
    """
    resources = group_resources(source, group, administrations)
    index = ResourceIndex(resources)
    has_encounter = not group.startswith(NO_ENCOUNTER)
    encounter_id = group.split("/", 1)[1] if has_encounter else None
    patient = administrations[0].get("subject") if administrations else None
    patient_ref = patient.get("reference") if isinstance(patient, dict) else None
    visit = visit_facts(
        HOOK,
        index,
        administrations=administrations,
        encounter_id=encounter_id,
        patient_id=patient_ref.rsplit("/", 1)[-1] if isinstance(patient_ref, str) else None,
        default_payer_class=ctx.settings.default_payer_class,
        injectable=ctx.catalog.knows_injectable,
    )
    findings = evaluate_visit(visit, ctx).findings
    by_key = {f"{r.get('resourceType')}/{r.get('id')}": r for r in resources}
    encounter_json = index.resolve(group) if has_encounter else None
    return GroupResult(
        encounter=group if has_encounter else None,
        department=department(encounter_json, by_key),
        administrations=[
            AdministrationResult(a.reference, a.drug_name, a.when, a.billable_candidate)
            for a in visit.administrations
        ],
        findings=[
            FindingResult(
                f.rule,
                f.severity,
                f.resource,
                f.element,
                f.message,
                orjson.dumps(dict(f.data), default=_jsonable) if f.data else b"",
            )
            for f in findings
        ],
    )


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {name: getattr(value, name) for name in value.__dataclass_fields__}
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
