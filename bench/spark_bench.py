"""The batch audit on Spark against the local engine, and Spark's scaling from 1 to 2 cores.

    .venv/bin/python bench/spark_bench.py                  # 100,000 administrations
    .venv/bin/python bench/spark_bench.py --sizes 2000     # a quick look

For each size the synthetic generator writes a Bulk NDJSON export (seeded, cached under
--data-dir, shared with bench/audit_bench.py). Each measurement runs in a fresh process:

- local: ``run_audit`` on every core (the default engine, as bench/audit_bench.py runs it);
- spark local[1] and local[2]: ``run_spark_audit`` in Spark local mode with 1 and 2
  executor cores; "job s" is the audit itself, "session s" the JVM and SparkSession start
  (paid once per job, not per administration).

The findings of every run are checked to be the same (count and summary) before any figure
is printed. Figures: bench/RESULTS.md ("Batch audit on Spark").
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.append(str(HERE))
from machine import load_average, tree_cpu_seconds  # noqa: E402

# bench/profile.py would shadow the standard library's profile (pyspark imports it), and
# machine.py puts bench/ first on the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]


def ensure_data(data_dir: Path, size: int, seed: int) -> Path:
    """The export bench/audit_bench.py uses (same seed, same cache)."""
    from injection_cds.devtools.synthetic import write_bulk_ndjson

    target = data_dir / f"audit-{size}-seed{seed}"
    marker = data_dir / f"audit-{size}-seed{seed}.counts.json"
    if not marker.exists():
        marker.write_text(json.dumps(write_bulk_ndjson(target, size, seed)))
    return target


def measure(engine: str, data: Path, cores: int) -> dict[str, Any]:
    load_before = load_average()
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        if engine == "local":
            from injection_cds.audit import run_audit

            cpu_before = tree_cpu_seconds()
            run_audit([data], Path(out), workers=cores, progress=False, stderr=io.StringIO())
            session_s = 0.0
            cpu_s = tree_cpu_seconds() - cpu_before
        else:
            from injection_cds.audit.spark import run_spark_audit, session

            spark = session(f"local[{cores}]", spark_ui_enabled="false")
            session_s = time.perf_counter() - started
            cpu_before = tree_cpu_seconds()
            run_spark_audit([str(data)], out, spark=spark, stderr=io.StringIO())
            # Read before stop(): the JVM and its Python workers are still in the tree.
            cpu_s = tree_cpu_seconds() - cpu_before
            spark.stop()
        seconds = time.perf_counter() - started - session_s
        summary = json.loads((Path(out) / "findings.json").read_text("utf-8"))["summary"]
    return {
        "seconds": seconds,
        "session_s": session_s,
        "cpu_s": cpu_s,
        "load": [load_before, load_average()],
        "summary": summary,
    }


def run_child(engine: str, data: Path, cores: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", engine, str(data), str(cores)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        # The child's own error (a Spark or Python traceback) is the only clue to why it failed.
        raise SystemExit(
            f"{engine} on {cores} core(s) exited with {done.returncode}:\n{done.stderr[-4000:]}"
        )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    # Each run as it ends: a later run that fails does not take the earlier figures with it.
    figures = {k: v for k, v in found.items() if k != "summary"}
    print(f"# {engine} cores={cores}: {json.dumps(figures)}", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "icds")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "DATA", "CORES"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]), int(args.child[2]))))
        return
    rows: list[dict[str, Any]] = []
    for size in args.sizes:
        data = ensure_data(args.data_dir, size, args.seed)
        runs = [("local", os.cpu_count() or 1), ("spark", 1), ("spark", 2)]
        found = {(engine, cores): run_child(engine, data, cores) for engine, cores in runs}
        summaries = {json.dumps(f["summary"], sort_keys=True) for f in found.values()}
        if len(summaries) != 1:
            raise SystemExit(f"the engines disagree: {summaries}")
        local = found[("local", os.cpu_count() or 1)]["seconds"]
        local_cpu = found[("local", os.cpu_count() or 1)]["cpu_s"]
        one = found[("spark", 1)]["seconds"]
        for (engine, cores), figures in found.items():
            row = {
                "size": size,
                "engine": engine,
                "cores": cores,
                "seconds": round(figures["seconds"], 2),
                "session_s": round(figures["session_s"], 2),
                "cpu_s": round(figures["cpu_s"], 1),
                "cpu_vs_local": round(figures["cpu_s"] / local_cpu, 2),
                "load": [round(v, 1) for v in figures["load"]],
                "admin_per_s": round(size / figures["seconds"]),
                "vs_local": round(figures["seconds"] / local, 2),
                "speedup_vs_1_core": round(one / figures["seconds"], 2)
                if engine == "spark"
                else None,
            }
            rows.append(row)
            print(
                f"{size:>7,} adm  {engine:<5} cores={cores}  job {row['seconds']:7.1f} s  "
                f"session {row['session_s']:5.1f} s  {row['admin_per_s']:6,} adm/s  "
                f"cpu {row['cpu_s']:7.1f} s (x{row['cpu_vs_local']:.2f} local's)  "
                f"load {row['load'][0]:.1f}->{row['load'][1]:.1f}  "
                f"x{row['vs_local']:.2f} local's time"
                + (
                    f"  speedup vs 1 core {row['speedup_vs_1_core']:.2f}"
                    if engine == "spark"
                    else ""
                ),
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
