"""The audit, end to end: read (pass 1), audit by encounter (pass 2), write the outputs.

Pass 1 reads every input in chunks; worker processes parse and validate each record (bad
ones are reported with file and line and skipped); the main process writes the valid ones
to the spill store. Pass 2 cuts the encounter groups into ranges; worker processes run the
service's rules over each group; the main process streams the findings to the outputs and
folds them into the totals. Only the chunks and ranges in flight are held in memory.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.pool import Pool
from pathlib import Path
from typing import IO, Any

from injection_cds.audit.aggregate import Totals
from injection_cds.audit.outputs import Outputs
from injection_cds.audit.progress import Progress, bounded_map
from injection_cds.audit.reader import Skipped, discover, read_chunks
from injection_cds.audit.report import write_report
from injection_cds.audit.store import SpillStore
from injection_cds.audit.worker import (
    HOOK,
    close_evaluate,
    evaluate_range,
    ingest_chunk,
    init_evaluate,
)
from injection_cds.core.context import RuleContext

ADMINISTRATIONS_PER_TASK = 400
MAX_SKIPPED_PRINTED = 100


@dataclass
class AuditResult:
    """What an audit produced, and how long each pass took."""

    totals: Totals
    out_dir: Path
    workers: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Administrations audited per second, end to end."""
        total = self.seconds.get("total", 0.0)
        return self.totals.administrations / total if total > 0 else 0.0


def run_audit(
    inputs: list[Path],
    out_dir: Path,
    *,
    ctx: RuleContext | None = None,
    workers: int | None = None,
    progress: bool | None = None,
    stderr: IO[str] | None = None,
    work_dir: Path | None = None,
) -> AuditResult:
    """Audit every administration in ``inputs``; write worklist, findings and report."""
    stream = stderr if stderr is not None else sys.stderr
    workers = max(1, workers or available_cores())
    bar = Progress(stream, stream.isatty() if progress is None else progress)
    ctx = ctx if ctx is not None else RuleContext()
    out_dir.mkdir(parents=True, exist_ok=True)
    totals = Totals()
    result = AuditResult(totals, out_dir, workers)
    started = time.perf_counter()
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=work_dir)))
        store = SpillStore(scratch / "spill.sqlite")
        stack.callback(store.close)
        report_skip = _skip_reporter(totals, stream, bar)
        _read(inputs, store, totals, report_skip, bar, workers)
        result.seconds["read"] = time.perf_counter() - started
        outputs = Outputs(out_dir, scratch)
        stack.callback(outputs.abort)
        _evaluate(store, report_skip, ctx, outputs, totals, bar, workers)
        result.seconds["total"] = time.perf_counter() - started
        result.seconds["audit"] = result.seconds["total"] - result.seconds["read"]
        meta = {
            "generatedAt": datetime.now(UTC).isoformat(timespec="seconds"),
            "hook": HOOK,
            "inputs": [str(p) for p in inputs],
            "workers": workers,
            "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
            "definitions": {
                "billableCandidate": "completed, and given by injection (the route says "
                "so or, when the route is missing or uncoded, the drug does)",
                "documentationCompleteRate": "billable-candidate administrations with no "
                "documentation finding / billable-candidate administrations",
            },
        }
        head = outputs.finish(totals, meta)
        write_report(head, out_dir / "report.html")
    return result


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), else the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _skip_reporter(totals: Totals, stream: IO[str], bar: Progress) -> Callable[[Skipped], None]:
    def report(record: Skipped) -> None:
        totals.skip(record)
        if totals.skipped_count <= MAX_SKIPPED_PRINTED:
            prefix = "\n" if bar.enabled else ""
            stream.write(f"{prefix}skipped {record.file}:{record.line}: {record.reason}\n")
        elif totals.skipped_count == MAX_SKIPPED_PRINTED + 1:
            stream.write("more skipped records: see findings.json\n")

    return report


def _pool(workers: int, **kwargs: Any) -> Pool | None:
    if workers <= 1:
        return None
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    return multiprocessing.get_context(method).Pool(workers, **kwargs)


def _read(
    inputs: list[Path],
    store: SpillStore,
    totals: Totals,
    skip: Callable[[Skipped], None],
    bar: Progress,
    workers: int,
) -> None:
    files = discover(inputs)
    totals.files = len(files)
    bar.start("read", sum(p.stat().st_size for p in files if p.is_file()), "bytes")

    def chunks() -> Any:
        for path in files:
            if not path.is_file():
                skip(Skipped(str(path), "-", "not a readable file"))
                continue
            yield from read_chunks(path, skip, bar.advance)

    pool = _pool(workers)
    try:
        for ingested in bounded_map(pool, ingest_chunk, chunks(), in_flight=2 * workers):
            for record in ingested.skipped:
                skip(record)
            totals.resources_by_type.update(ingested.types)
            store.add(ingested.rows)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    totals.records_read = sum(totals.resources_by_type.values()) + totals.skipped_count
    store.finish()
    bar.finish()


def _evaluate(
    store: SpillStore,
    skip: Callable[[Skipped], None],
    ctx: RuleContext,
    outputs: Outputs,
    totals: Totals,
    bar: Progress,
    workers: int,
) -> None:
    administrations, _ = store.counts()
    per_task = max(1, min(ADMINISTRATIONS_PER_TASK, administrations // (workers * 4) or 1))
    tasks = store.plan(per_task)
    bar.start("audit", administrations, "adm")
    pool = _pool(workers, initializer=init_evaluate, initargs=(store.path, ctx))
    if pool is None:
        init_evaluate(store.path, ctx)
    try:
        for task, groups in zip(
            tasks, bounded_map(pool, evaluate_range, tasks, in_flight=2 * workers), strict=True
        ):
            for group in groups:
                if group.error is not None:
                    skip(Skipped("(rules)", group.encounter or "-", f"not audited: {group.error}"))
                    continue
                totals.add(group)
                outputs.add(group)
            bar.advance(task[2])
    finally:
        if pool is None:
            close_evaluate()
        else:
            pool.close()
            pool.join()
    bar.finish()


def summary_text(result: AuditResult) -> str:
    """The plain summary printed at the end of a run."""
    s = result.totals.summary()
    complete = s["documentationCompleteRate"]
    total_s = result.seconds.get("total", 0.0)
    lines = [
        f"audited {s['administrations']:,} administrations in {s['encounters']:,} encounters "
        f"from {s['files']:,} files ({s['recordsRead']:,} records, "
        f"{s['skippedRecords']:,} skipped) in {total_s:.1f} s "
        f"({result.rate:,.0f} administrations/s, {result.workers} "
        f"worker{'s' if result.workers != 1 else ''})",
        f"billable candidates {s['billableCandidates']:,}; documentation complete "
        f"{s['documentationComplete']:,}" + (f" ({complete:.1%})" if complete is not None else ""),
        f"findings {s['findings']:,}: critical {s['critical']:,}, warning {s['warning']:,}, "
        f"info {s['info']:,}; billing lines {s['billingLines']:,}",
        "wrote "
        + ", ".join(
            str(result.out_dir / name) for name in ("worklist.csv", "findings.json", "report.html")
        ),
    ]
    return "\n".join(lines)
