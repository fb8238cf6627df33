"""What the Spark engine runs on the executors: plain Python over Arrow batches.

Each function here is handed to ``DataFrame.mapInArrow`` and calls the local engine's own
code: ``reader`` for gzip and Bundle files, ``ingest_record`` (parse, validate, classify),
``audit_group_safely`` (the per-encounter function), ``Totals`` and ``finding_rows``.
"""

from __future__ import annotations

import gzip
import io
import pickle
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson
import pyarrow as pa

from injection_cds.audit.aggregate import Totals
from injection_cds.audit.grouping import HOPS, MemorySource, follows
from injection_cds.audit.outputs import WORKLIST_COLUMNS, finding_rows
from injection_cds.audit.reader import (
    JSON_SUFFIXES,
    NDJSON_SUFFIXES,
    InvalidDocument,
    Skipped,
    _read_error,
    document_records,
)
from injection_cds.audit.worker import (
    AdministrationResult,
    FindingResult,
    GroupResult,
    audit_group_safely,
    ingest_record,
)
from injection_cds.core.context import RuleContext

Batches = Iterable[pa.RecordBatch]
OUT_BATCH = 2000  # rows per Arrow batch handed back to Spark

# Spark schemas (DDL) and the same schemas in Arrow, field for field.
RECORDS_DDL = "file_idx INT, file STRING, seq LONG, line STRING, raw BINARY, reason STRING"
RECORDS = pa.schema(
    [
        ("file_idx", pa.int32()),
        ("file", pa.string()),
        ("seq", pa.int64()),
        ("line", pa.string()),
        ("raw", pa.binary()),
        ("reason", pa.string()),
    ]
)
_LINK = pa.struct([("owner", pa.string()), ("kind", pa.string())])
INGESTED_DDL = (
    "tag STRING, rtype STRING, key STRING, grp STRING, raw BINARY, follows ARRAY<STRING>, "
    "links ARRAY<STRUCT<owner: STRING, kind: STRING>>, file_idx INT, seq LONG, file STRING, "
    "line STRING, reason STRING"
)
INGESTED = pa.schema(
    [
        ("tag", pa.string()),
        ("rtype", pa.string()),
        ("key", pa.string()),
        ("grp", pa.string()),
        ("raw", pa.binary()),
        ("follows", pa.list_(pa.string())),
        ("links", pa.list_(_LINK)),
        ("file_idx", pa.int32()),
        ("seq", pa.int64()),
        ("file", pa.string()),
        ("line", pa.string()),
        ("reason", pa.string()),
    ]
)
# Tags of ingested rows.
SKIP, ADMINISTRATION, RESOURCE, UNKEYED = "skip", "adm", "res", "none"
_ADMINISTRATION = pa.struct(
    [
        ("reference", pa.string()),
        ("drug", pa.string()),
        ("when", pa.string()),
        ("candidate", pa.bool_()),
    ]
)
_FINDING = pa.struct(
    [
        ("rule", pa.string()),
        ("severity", pa.string()),
        ("resource", pa.string()),
        ("element", pa.string()),
        ("message", pa.string()),
        ("data", pa.binary()),
    ]
)
RESULTS_DDL = (
    "grp STRING, encounter STRING, department STRING, error STRING, "
    "administrations ARRAY<STRUCT<reference: STRING, drug: STRING, `when`: STRING, "
    "candidate: BOOLEAN>>, findings ARRAY<STRUCT<rule: STRING, severity: STRING, "
    "resource: STRING, element: STRING, message: STRING, data: BINARY>>"
)
RESULTS = pa.schema(
    [
        ("grp", pa.string()),
        ("encounter", pa.string()),
        ("department", pa.string()),
        ("error", pa.string()),
        ("administrations", pa.list_(_ADMINISTRATION)),
        ("findings", pa.list_(_FINDING)),
    ]
)
# One row per finding: the worklist's columns, then the rest of the findings.json record.
FINDING_COLUMNS = (
    *WORKLIST_COLUMNS,
    "encounter_reference",
    "resource",
    "message",
    "data",
    "date_of_service",
)
FINDINGS_DDL = (
    ", ".join(f"{name} STRING" for name in FINDING_COLUMNS) + ", grp STRING, position INT"
)
FINDINGS = pa.schema(
    [
        *((name, pa.string()) for name in FINDING_COLUMNS),
        ("grp", pa.string()),
        ("position", pa.int32()),
    ]
)
TOTALS_DDL = "totals BINARY"
TOTALS = pa.schema([("totals", pa.binary())])


def _batches(rows: Iterable[dict[str, Any]], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= OUT_BATCH:
            yield pa.RecordBatch.from_pylist(chunk, schema=schema)
            chunk = []
    if chunk:
        yield pa.RecordBatch.from_pylist(chunk, schema=schema)


# --- reading files that are read whole (gzip, Bundles) ---------------------------------------
def file_records(
    label: str, name: str, content: bytes
) -> Iterator[tuple[int, str, bytes, str | None]]:
    """``(seq, line, raw, reason)`` of one file read whole, as the local reader numbers them."""
    lowered = name.lower()
    if lowered.endswith(NDJSON_SUFFIXES):
        handle: Any = (
            gzip.GzipFile(fileobj=io.BytesIO(content))
            if lowered.endswith(".gz")
            else io.BytesIO(content)
        )
        line_no = 0
        try:
            for line in handle:
                line_no += 1
                if line.strip():
                    yield line_no, str(line_no), line, None
        except (OSError, EOFError) as exc:
            yield line_no + 1, str(line_no + 1), b"", _read_error(exc) + "; rest of file"
        return
    try:
        document = orjson.loads(gzip.decompress(content) if lowered.endswith(".gz") else content)
    except (OSError, EOFError, orjson.JSONDecodeError) as exc:
        yield 1, "1", b"", _read_error(exc)
        return
    try:
        records = document_records(document)
    except InvalidDocument as exc:
        yield 1, "1", b"", str(exc)
        return
    for seq, (line, raw) in enumerate(records):
        yield seq, line, raw, None


def read_whole_files(batches: Batches) -> Iterator[pa.RecordBatch]:
    """Rows ``file_idx, file, name, content`` (one per file) -> record rows."""
    for batch in batches:
        for row in batch.to_pylist():
            records = (
                {
                    "file_idx": row["file_idx"],
                    "file": row["file"],
                    "seq": seq,
                    "line": line,
                    "raw": raw,
                    "reason": reason,
                }
                for seq, line, raw, reason in file_records(row["file"], row["name"], row["content"])
            )
            yield from _batches(records, RECORDS)


def is_read_whole(name: str) -> bool:
    """Gzip files and JSON documents are read whole; plain NDJSON is split by Spark."""
    lowered = name.lower()
    return lowered.endswith(".gz") or (
        lowered.endswith(JSON_SUFFIXES) and not lowered.endswith(NDJSON_SUFFIXES)
    )


# --- pass 1: parse, validate, classify ------------------------------------------------------
def ingest_batches(batches: Batches) -> Iterator[pa.RecordBatch]:
    """Record rows -> ingested rows (skipped records, administrations, other resources)."""
    for batch in batches:
        yield from _batches(_ingest_rows(batch.to_pylist()), INGESTED)


def _ingest_rows(records: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for record in records:
        base = {
            "file_idx": record["file_idx"],
            "seq": record["seq"],
            "file": record["file"],
            "line": record["line"],
        }
        if record["reason"] is not None:
            yield {**base, "tag": SKIP, "reason": record["reason"]}
            continue
        raw = record["raw"]
        if not raw.strip():
            continue
        outcome = ingest_record(record["file"], record["line"], raw)
        if isinstance(outcome, Skipped):
            yield {**base, "tag": SKIP, "reason": outcome.reason}
            continue
        resource, row = outcome
        rtype = str(resource["resourceType"])
        if row is None:
            yield {**base, "tag": UNKEYED, "rtype": rtype}
            continue
        kind, key, group, stored, links = row
        yield {
            **base,
            "tag": ADMINISTRATION if kind == "adm" else RESOURCE,
            "rtype": rtype,
            "key": key,
            "grp": group or None,
            "raw": stored,
            "follows": follows(resource),
            "links": [{"owner": owner, "kind": link_kind} for owner, link_kind in links],
        }


# --- pass 2: the rules, one encounter group at a time ---------------------------------------
def auditor(ctx: RuleContext) -> Callable[[Batches], Iterator[pa.RecordBatch]]:
    """Group rows ``grp, items`` -> result rows, by the per-encounter function."""

    def audit_batches(batches: Batches) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = (audit_row(ctx, row["grp"], row["items"]) for row in batch.to_pylist())
            yield from _batches((result_row(grp, group) for grp, group in rows), RESULTS)

    return audit_batches


def audit_row(ctx: RuleContext, grp: str, items: list[dict[str, Any]]) -> tuple[str, GroupResult]:
    """One group's gathered rows -> its audit (administrations in key order, as locally)."""
    administrations: list[tuple[str, bytes]] = []
    resources: dict[str, Any] = {}
    reached: set[str] = set()
    expanded: set[str] = set()
    links: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    for item in items:
        tag, key = item["tag"], item["key"]
        if tag == "a":
            administrations.append((key, item["raw"]))
        elif tag == "r":
            reached.add(key)
            if item["depth"] < HOPS:
                expanded.add(key)
            if item["raw"] is not None:
                resources[key] = orjson.loads(item["raw"])
        else:
            links.setdefault((item["owner"], item["kind"]), []).append(
                (item["file_idx"], item["seq"], key)
            )
    ordered_links = {owner: [key for *_, key in sorted(found)] for owner, found in links.items()}
    source = MemorySource(resources, ordered_links, reached, expanded)
    members = [orjson.loads(raw) for _, raw in sorted(administrations)]
    return grp, audit_group_safely(source, ctx, grp, members)


def result_row(grp: str, group: GroupResult) -> dict[str, Any]:
    """A GroupResult as a result row."""
    return {
        "grp": grp,
        "encounter": group.encounter,
        "department": group.department,
        "error": group.error,
        "administrations": [
            {"reference": a.reference, "drug": a.drug, "when": a.when, "candidate": a.candidate}
            for a in group.administrations
        ],
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity,
                "resource": f.resource,
                "element": f.element,
                "message": f.message,
                "data": f.data,
            }
            for f in group.findings
        ],
    }


def group_result(row: Any) -> GroupResult:
    """A result row (a dict or a Spark Row) back as the GroupResult the outputs take."""
    return GroupResult(
        encounter=row["encounter"],
        department=row["department"],
        administrations=[
            AdministrationResult(a["reference"], a["drug"], a["when"], a["candidate"])
            for a in row["administrations"]
        ],
        findings=[
            FindingResult(
                f["rule"],
                f["severity"],
                f["resource"],
                f["element"],
                f["message"],
                bytes(f["data"] or b""),
            )
            for f in row["findings"]
        ],
        error=row["error"],
    )


# --- aggregates and findings rows -----------------------------------------------------------
def rules_error(group: GroupResult) -> Skipped:
    """A group the rules failed on, as the local engine reports it."""
    return Skipped("(rules)", group.encounter or "-", f"not audited: {group.error}")


def totals_batches(batches: Batches) -> Iterator[pa.RecordBatch]:
    """Result rows -> one row per partition: its Totals (and rules errors), pickled."""
    totals = Totals()
    errors: list[tuple[str, Skipped]] = []
    for batch in batches:
        for row in batch.to_pylist():
            group = group_result(row)
            if group.error is not None:
                errors.append((row["grp"], rules_error(group)))
            else:
                totals.add(group)
    yield pa.RecordBatch.from_pylist([{"totals": pickle.dumps((totals, errors))}], schema=TOTALS)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def date_of(when: str | None) -> str | None:
    """The date part of an administration's time ("2026-11-24 10:15"), else None."""
    match = _DATE.match(when or "")
    return match.group(0) if match else None


def findings_batches(batches: Batches) -> Iterator[pa.RecordBatch]:
    """Result rows -> one row per finding (the worklist row plus the findings.json record).

    The date of service is the administration's date; for a finding on the encounter, the
    group's first administration date.
    """
    fixes: dict[str, str] = {}
    for batch in batches:
        yield from _batches(_finding_rows(batch.to_pylist(), fixes), FINDINGS)


def _finding_rows(rows: list[dict[str, Any]], fixes: dict[str, str]) -> Iterator[dict[str, Any]]:
    for row in rows:
        group = group_result(row)
        if group.error is not None:
            continue
        dates = [d for d in (date_of(a.when) for a in group.administrations) if d]
        first = min(dates) if dates else None
        for position, (line, record) in enumerate(finding_rows(group, fixes)):
            out: dict[str, Any] = dict(zip(WORKLIST_COLUMNS, line, strict=True))
            data = record.get("data")
            out.update(
                encounter_reference=record["encounter"],
                resource=record["resource"],
                message=record["message"],
                data=orjson.dumps(data).decode() if data is not None else None,
                date_of_service=date_of(record["time"]) or first,
                grp=row["grp"],
                position=position,
            )
            yield out
