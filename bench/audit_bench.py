"""Batch audit throughput and peak memory against the floor (issue 6).

    .venv/bin/python bench/audit_bench.py                 # 10,000 and 100,000 administrations
    .venv/bin/python bench/audit_bench.py --sizes 2000 --smoke

For each size, the synthetic generator writes a Bulk NDJSON export (seeded, cached under
--data-dir). Each measurement runs in a fresh process:

- floor: read every file line by line and JSON-parse it (orjson), nothing else;
- validate: the floor plus ``fhir.validate_resource`` on every record (what pass 1 pays);
- audit: ``run_audit`` end to end (read, validate, spill, group, rules, outputs) on 1 worker
  and on every core.

Administrations/s is administrations / wall seconds. Peak memory is the largest resident set
of the audit's main process and of any worker (ru_maxrss).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent


def _files(data: Path) -> list[Path]:
    return sorted(p for p in data.iterdir() if p.name.endswith(".ndjson"))


def measure_floor(data: Path) -> dict[str, Any]:
    started = time.perf_counter()
    records = 0
    for path in _files(data):
        with path.open("rb") as handle:
            for line in handle:
                orjson.loads(line)
                records += 1
    return {"seconds": time.perf_counter() - started, "records": records}


def measure_validate(data: Path) -> dict[str, Any]:
    from injection_cds.fhir.validation import validate_resource

    validate_resource({"resourceType": "Patient"})  # import and build the models first
    started = time.perf_counter()
    records = 0
    by_type: dict[str, float] = {}
    for path in _files(data):
        t0 = time.perf_counter()
        with path.open("rb") as handle:
            for line in handle:
                validate_resource(orjson.loads(line))
                records += 1
        by_type[path.name.split(".")[0]] = time.perf_counter() - t0
    return {"seconds": time.perf_counter() - started, "records": records, "by_type": by_type}


def measure_audit(data: Path, workers: int) -> dict[str, Any]:
    from injection_cds.audit import run_audit

    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        result = run_audit([data], Path(out), workers=workers, progress=False, stderr=io.StringIO())
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "phases": result.seconds,
        "administrations": result.totals.administrations,
        "findings": result.totals.findings,
        "skipped": result.totals.skipped_count,
    }


def _child(kind: str, data: str, workers: int) -> None:
    path = Path(data)
    if kind == "floor":
        found = measure_floor(path)
    elif kind == "validate":
        found = measure_validate(path)
    else:
        found = measure_audit(path, workers)
    found["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found["peak_worker_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(found))


def run_child(kind: str, data: Path, workers: int = 1) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(data), str(workers)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def ensure_data(data_dir: Path, size: int, seed: int) -> Path:
    from injection_cds.devtools.synthetic import write_bulk_ndjson

    target = data_dir / f"audit-{size}-seed{seed}"
    marker = data_dir / f"audit-{size}-seed{seed}.counts.json"
    if not marker.exists():
        counts = write_bulk_ndjson(target, size, seed)
        marker.write_text(json.dumps(counts))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "icds")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=1, help="Best of this many runs.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    parser.add_argument("--smoke", action="store_true", help="1 worker only, no validate run.")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "DATA", "WORKERS"))
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]))
        return
    rows: list[dict[str, Any]] = []
    for size in args.sizes:
        data = ensure_data(args.data_dir, size, args.seed)
        counts = json.loads((args.data_dir / f"{data.name}.counts.json").read_text())
        admins = counts["MedicationAdministration"]
        records = sum(counts.values())
        runs: list[tuple[str, int]] = [("floor", 1)]
        if not args.smoke:
            runs.append(("validate", 1))
        runs.append(("audit", 1))
        if not args.smoke and args.workers > 1:
            runs.append(("audit", args.workers))
        for kind, workers in runs:
            found = min(
                (run_child(kind, data, workers) for _ in range(args.repeat)),
                key=lambda f: float(f["seconds"]),
            )
            found.update(size=size, kind=kind, workers=workers, records=records)
            found["admin_per_s"] = admins / found["seconds"]
            found["admin_per_s_per_core"] = found["admin_per_s"] / workers
            rows.append(found)
            print(
                f"{size:>7,} adm {records:>8,} rec  {kind:<8} workers={workers}  "
                f"{found['seconds']:7.2f} s  {found['admin_per_s']:9,.0f} adm/s  "
                f"({found['admin_per_s_per_core']:,.0f}/core)  peak {found['peak_rss_mb']:.0f} MB"
                f" main, {found['peak_worker_rss_mb']:.0f} MB worker",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
