"""In-process stage timings of one hook call: json, parse, facts, rules, cards, encode, store.

``parse`` is the pipeline's envelope check, FHIR validation and prefetch resolution; ``json``
is decoding the body and ``encode`` encoding the answer (both orjson); ``store`` is recording
the cards in the ledger (a SQLite file in a temporary instance directory), as a service call
would. Every call charts a different administration (new ids and times, bench/bodies.py), as
in real charting, so a validation cache only answers for what really repeats (the encounter,
conditions, coverage, patient). Run on its own: ``python bench/stages.py [--iterations N]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from injection_cds.devtools import synthetic
from injection_cds.protocol import pipeline
from injection_cds.web.factory import create_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bodies import instantiate, template  # noqa: E402

STAGES = ("json", "parse", "facts", "rules", "cards", "encode", "store")


def _open_store(instance_dir: Path) -> Any:
    try:
        from injection_cds.store.ledger import Store, default_database_url, load_or_create_hash_key
    except ImportError:  # the ledger is not there yet: no store stage
        return None
    return Store.from_url(default_database_url(instance_dir), load_or_create_hash_key(instance_dir))


def time_stages(
    service: str, body: dict[str, Any], iterations: int, instance_dir: Path
) -> dict[str, Any]:
    """Median and p95 (ms) of each stage over ``iterations`` calls, after a short warm-up."""
    logging.getLogger("injection_cds").setLevel(logging.ERROR)  # the loopback-only warning
    app = create_app({"instance_dir": str(instance_dir), "log_level": "ERROR"})
    ctx = app.extensions["injection_cds.rule_context"]
    store = _open_store(instance_dir)
    text = template(body)
    samples: dict[str, list[float]] = {stage: [] for stage in (*STAGES, "total")}
    warmup = max(3, iterations // 10)
    cards = 0
    try:
        for i in range(warmup + iterations):
            raw = instantiate(text, f"stage-{i}", i)  # a new administration each call
            t0 = time.perf_counter()
            parsed = orjson.loads(raw)
            t1 = time.perf_counter()
            parsed["hookInstance"] = str(uuid.UUID(int=i, version=4))  # new card uuids each call
            result = pipeline.call_service(
                service, parsed, ctx=ctx, base_url="http://127.0.0.1", client=None
            )
            t2 = time.perf_counter()
            orjson.dumps(result.response)
            t3 = time.perf_counter()
            if store is not None:
                context = result.request.context
                store.ledger.record(
                    service,
                    result.request.hook,
                    result.request.hook_instance,
                    result.cards,
                    context.get("patientId"),
                    context.get("encounterId"),
                )
            t4 = time.perf_counter()
            if i < warmup:
                continue
            cards = len(result.cards)
            timings = result.timings
            step = {
                "json": t1 - t0,
                "parse": timings.get("parse", 0.0),
                "facts": timings.get("facts", 0.0),
                "rules": timings.get("rules", 0.0),
                "cards": timings.get("cards", 0.0),
                "encode": t3 - t2,
                "store": (t4 - t3) if store is not None else float("nan"),
                "total": t4 - t0,
            }
            for stage, seconds in step.items():
                samples[stage].append(seconds * 1000)
    finally:
        if store is not None:
            store.close()
    out: dict[str, Any] = {"iterations": iterations, "cards": cards, "stages": {}}
    for stage, values in samples.items():
        ordered = sorted(values)
        out["stages"][stage] = {
            "median_ms": statistics.median(ordered),
            "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        }
    return out


def run_stage_timings(
    scenarios: list[tuple[str, str, int, bool]], iterations: int, seed: int
) -> dict[str, Any]:
    """Stage timings for each (name, service, administrations, contained) scenario."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="injection-cds-stages-") as tmp:
        for name, service, n, contained in scenarios:
            body = synthetic.hook_request(
                service, n_administrations=n, seed=seed, contained=contained
            )
            count = max(10, min(iterations, iterations * 8 // max(n, 1)))
            results[name] = time_stages(service, body, count, Path(tmp) / name)
    return results


def stages_table(results: dict[str, Any]) -> str:
    """A markdown table: one row per scenario, median (p95) ms per stage."""
    header = "| scenario | " + " | ".join(STAGES) + " | total |"
    lines = [header, "|" + "---|" * (len(STAGES) + 2)]
    for name, result in results.items():
        cells = []
        for stage in (*STAGES, "total"):
            value = result["stages"][stage]
            if value["median_ms"] != value["median_ms"]:  # NaN: stage not available
                cells.append("n/a")
            else:
                cells.append(f"{value['median_ms']:.2f} ({value['p95_ms']:.2f})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    scenarios = [
        ("charting-1", "injection-charting", 1, True),
        ("discharge-8", "injection-discharge", 8, False),
    ]
    results = run_stage_timings(scenarios, args.iterations, args.seed)
    print(json.dumps(results, indent=2) if args.json else stages_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
