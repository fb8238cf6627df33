"""The CMS drug reference: start-up cost, memory, and lookups (issue 10).

    .venv/bin/python bench/reference_bench.py            # prints, and updates bench/RESULTS.md

Each start-up figure is measured in a fresh process:

- ``load``: read and index the shipped quarter (``read_quarter``), and the whole catalog
  (``DrugCatalog.shipped``: curated table + quarter + sourced choices);
- ``app``: ``create_app`` (what a gunicorn worker does before its first answer), with the
  full reference loaded: wall seconds and peak RSS (VmHWM) of the process.

Lookups are timed in this process with ``time.perf_counter_ns`` over many calls: an NDC's
codes, a code's facts, and ``identify`` on fresh Drug objects (the catalog's memo is cleared
each round so the figure is the lookup itself, not the memo). A lookup is a dictionary access
when its cost does not depend on the number of NDCs: the same lookups against a quarter cut
to a tenth of its NDCs are timed too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
START = "<!-- reference-bench:start -->"
END = "<!-- reference-bench:end -->"

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
what = sys.argv[1]
if what == "load":
    from importlib import resources
    from injection_cds.reference.drugref import read_quarter
    data = resources.files("injection_cds.reference.data")
    raw = data.joinpath("cms-2026q1.json.gz").read_bytes()
    t1 = time.perf_counter()
    read_quarter(raw)
    t2 = time.perf_counter()
    from injection_cds.reference.catalog import DrugCatalog
    DrugCatalog.shipped()
    t3 = time.perf_counter()
    out = {"quarter_s": t2 - t1, "catalog_s": t3 - t2}
else:
    import tempfile
    from injection_cds.reference.catalog import DrugCatalog
    DrugCatalog.shipped()  # the drug reference first, timed on its own (then cached)
    t1 = time.perf_counter()
    from injection_cds.web.factory import create_app
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"instance_dir": folder})
        out = {"app_s": time.perf_counter() - t0, "reference_s": t1 - t0}
status = open("/proc/self/status").read().split("\n")
out["hwm_mb"] = next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024
print(json.dumps(out))
"""


def _child(what: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, what], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _timed(function: Any, calls: list[Any], rounds: int = 5) -> float:
    """Best-of-rounds nanoseconds per call."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter_ns()
        for call in calls:
            function(call)
        best = min(best, (time.perf_counter_ns() - started) / len(calls))
    return best


def lookups() -> dict[str, float]:
    """Nanoseconds per lookup, on the full quarter and on one cut to a tenth of its NDCs."""
    from injection_cds.core import codes
    from injection_cds.core.facts import Coding, Concept, Drug
    from injection_cds.reference.catalog import DrugCatalog

    catalog = DrugCatalog.shipped()
    quarter = catalog.quarter
    assert quarter is not None
    ndcs = sorted(quarter.packages)
    tenth = {n: quarter.packages[n] for n in ndcs[::10]}
    small = replace(quarter, packages=tenth)
    sample = ndcs[::10]
    drugs = [Drug(concept=Concept((Coding(codes.NDC, n),), None)) for n in sample]
    names = ["Enoxaparin Sodium 40 mg", "cisplatin 50 MG Injection", "Adcetris", "lorazepam"]
    named = [Drug(concept=Concept((), text)) for text in names * 250]

    def identify(drug: Drug) -> object:
        catalog._identified.clear()
        catalog._recent.clear()
        return catalog.identify(drug)

    return {
        "ndcs": len(ndcs),
        "codes": len(quarter.codes),
        "codes_for_ndc_ns": _timed(quarter.codes_for_ndc, sample),
        "codes_for_ndc_tenth_ns": _timed(small.codes_for_ndc, sample),
        "code_facts_ns": _timed(quarter.codes.get, [quarter.packages[n][0].code for n in sample]),
        "identify_ndc_ns": _timed(identify, drugs),
        "identify_name_ns": _timed(identify, named),
    }


def report(load: dict[str, Any], app: dict[str, Any], found: dict[str, float]) -> str:
    lines = [
        START,
        "## Drug reference (bench/reference_bench.py)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{found['codes']:.0f} codes, {found['ndcs']:.0f} NDCs (CMS 2026Q1); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work on the machine makes the "
        "start-up figures pessimistic).",
        "",
        "| figure | measured | target |",
        "|---|---:|---|",
        f"| read and index the shipped quarter | {load['quarter_s'] * 1000:.0f} ms | |",
        f"| DrugCatalog.shipped() (reads the quarter itself, + curated table and choices) | "
        f"{load['catalog_s'] * 1000:.0f} ms | |",
        f"| peak RSS, catalog alone | {load['hwm_mb']:.0f} MB | |",
        f"| create_app with the full reference (a worker's start) | {app['app_s']:.2f} s | < 3 s |",
        f"| of which the drug reference (imports, quarter, catalog) | {app['reference_s']:.2f} s | "
        "|",
        f"| peak RSS of that process | {app['hwm_mb']:.0f} MB | < 150 MB |",
        f"| NDC -> codes | {found['codes_for_ndc_ns']:.0f} ns | dict access |",
        f"| NDC -> codes, quarter cut to a tenth | {found['codes_for_ndc_tenth_ns']:.0f} ns | "
        "same as full |",
        f"| code -> facts | {found['code_facts_ns']:.0f} ns | dict access |",
        f"| identify a drug by NDC (memo cleared) | {found['identify_ndc_ns'] / 1000:.1f} µs | |",
        f"| identify a drug by name (memo cleared) | {found['identify_name_ns'] / 1000:.1f} µs | |",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    load = _child("load")
    app = _child("app")
    found = lookups()
    text = report(load, app, found)
    print(text)
    current = RESULTS.read_text("utf-8") if RESULTS.exists() else ""
    if START in current and END in current:
        head, rest = current.split(START, 1)
        current = head + text + rest.split(END, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS.write_text(current, "utf-8")


if __name__ == "__main__":
    main()
