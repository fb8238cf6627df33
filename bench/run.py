"""The benchmark of issue 5: the real service under gunicorn on loopback, driven by wrk.

    .venv/bin/python bench/run.py              # full run (~4 min): RESULTS.md, JSON, plot
    .venv/bin/python bench/run.py --smoke      # a few seconds, for CI; writes to a temp dir

Starts ``injection-cds serve --host 127.0.0.1 --port P --workers 2`` (a temporary instance
directory), measures start-to-first-answer, then for each scenario and each concurrency
(1 and 16) runs wrk against the service and against ``POST /_floor`` (same server, workers and
body; it only parses the JSON and answers no cards), so each throughput is also a ratio to
the floor of the same run. Peak RSS per worker is read from /proc (VmHWM). In-process stage
timings (bench/stages.py) are added for scenarios 1 and 2. Only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import Server, free_port, memory_kb, post  # noqa: E402
from bodies import instantiate, template_for  # noqa: E402
from machine import (  # noqa: E402
    _TICKS,
    busy_ticks,
    children_ticks,
    git_commit,
    load_average,
    machine,
    process_ticks,
    self_ticks,
    wait_quiet,
)
from results_report import audit_section, markdown, plot  # noqa: E402
from wrk_runner import run_wrk  # noqa: E402

BENCH = Path(__file__).resolve().parent
SEED = 5


@dataclass(frozen=True)
class Scenario:
    name: str
    service: str
    administrations: int
    contained: bool
    label: str


SCENARIOS = (
    Scenario("charting-1", "injection-charting", 1, True, "1. charting hook, 1 administration"),
    Scenario("discharge-1", "injection-discharge", 1, False, "3. discharge, 1 administration"),
    Scenario(
        "discharge-8",
        "injection-discharge",
        8,
        False,
        "2. discharge, 8 administrations + encounter, 3 conditions, coverage, 2 charge items",
    ),
    Scenario("discharge-32", "injection-discharge", 32, False, "3. discharge, 32 administrations"),
    Scenario(
        "discharge-128", "injection-discharge", 128, False, "3. discharge, 128 administrations"
    ),
)
SMOKE_SCENARIOS = ("charting-1", "discharge-8")

TARGETS = {
    "charting_floor_ratio_min": 0.50,
    "charting_p99_c16_ms_max": 25.0,
    "discharge8_p99_c16_ms_max": 50.0,
    "discharge128_p50_ms_max": 150.0,
    "rss_mb_max": 150.0,
    "start_s_max": 3.0,
}


def write_bodies(directory: Path, scenarios: list[Scenario]) -> dict[str, Path]:
    """Write each scenario's body *template* (bench/bodies.py): post.lua fills it per request."""
    paths = {}
    for scenario in scenarios:
        text = template_for(
            scenario.service, scenario.administrations, seed=SEED, contained=scenario.contained
        )
        path = directory / f"{scenario.name}.json"
        path.write_text(text)
        paths[scenario.name] = path
    return paths


def probe_body(path: Path, label: str) -> bytes:
    """A concrete body from a template (for the probes outside wrk)."""
    return instantiate(path.read_text(), f"probe-{label}-{uuid.uuid4().hex[:8]}", 0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    wanted = SMOKE_SCENARIOS if args.smoke else tuple(s.name for s in SCENARIOS)
    if args.scenarios:
        wanted = tuple(args.scenarios.split(","))
    scenarios = [s for s in SCENARIOS if s.name in wanted]
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    duration = args.duration
    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    load_before = (
        wait_quiet(args.quiet_load, args.quiet_wait) if args.quiet_wait else load_average()
    )
    started_at = datetime.now(UTC)
    runs: list[dict[str, Any]] = []
    peak_kb: dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix="injection-cds-bench-") as tmp:
        bodies = write_bodies(Path(tmp), scenarios)
        server = Server(free_port(), args.workers, Path(tmp), Path(tmp) / "server.log")
        try:
            first = scenarios[0]
            start_s = server.wait_first_answer(
                f"/cds-services/{first.service}", probe_body(bodies[first.name], "first")
            )
            print(f"service start to first answer: {start_s:.2f} s", flush=True)
            workers = server.worker_pids()
            answers = {}
            for scenario in scenarios:
                status, reply = post(
                    server.url(f"/cds-services/{scenario.service}"),
                    probe_body(bodies[scenario.name], scenario.name),
                    timeout=30,
                )
                if status != 200:
                    raise RuntimeError(f"{scenario.name}: status {status}: {reply[:500]!r}")
                answers[scenario.name] = len(orjson.loads(reply)["cards"])
                if args.warmup:
                    for path in (f"/cds-services/{scenario.service}", "/_floor"):
                        run_wrk(server.url(path), bodies[scenario.name], 16, args.warmup)
            for scenario in scenarios:
                for connections in concurrencies:
                    for endpoint, path in (
                        ("service", f"/cds-services/{scenario.service}"),
                        ("floor", "/_floor"),
                    ):
                        server_pids = [server.process.pid, *server.worker_pids()]
                        before = (
                            busy_ticks(),
                            process_ticks(server_pids),
                            children_ticks(),
                            self_ticks(),
                            time.monotonic(),
                        )
                        result = run_wrk(
                            server.url(path), bodies[scenario.name], connections, duration
                        )
                        after = (
                            busy_ticks(),
                            process_ticks(server_pids),
                            children_ticks(),
                            self_ticks(),
                            time.monotonic(),
                        )
                        ticks = [b - a for a, b in zip(before[:4], after[:4], strict=True)]
                        seconds = after[4] - before[4]
                        result["server_cpus"] = ticks[1] / _TICKS / seconds
                        result["wrk_cpus"] = ticks[2] / _TICKS / seconds
                        other = ticks[0] - ticks[1] - ticks[2] - ticks[3]
                        result["other_cpus"] = max(0.0, other / _TICKS / seconds)
                        result.update(
                            scenario=scenario.name,
                            endpoint=endpoint,
                            concurrency=connections,
                            administrations=scenario.administrations,
                            body_bytes=bodies[scenario.name].stat().st_size,
                            cards=answers[scenario.name] if endpoint == "service" else 0,
                        )
                        runs.append(result)
                        print(
                            f"{scenario.name:14} {endpoint:7} c={connections:<3}"
                            f" {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.2f}"
                            f"  p99 {result['p99_ms']:7.2f} ms  errors {result['errors']}"
                            f"  other CPU {result['other_cpus']:.2f}",
                            flush=True,
                        )
                        for pid in server.worker_pids():
                            hwm = memory_kb(pid).get("VmHWM", 0)
                            peak_kb[pid] = max(peak_kb.get(pid, 0), hwm)
            master = memory_kb(server.process.pid)
            workers_now = server.worker_pids()
        finally:
            server.stop()
            if any(r["errors"] for r in runs):
                shutil.copy(server.log_path, out_dir / "server.log")
    if sorted(workers_now) != sorted(workers):
        print(f"note: workers changed during the run: {workers} -> {workers_now}")
    stage_scenarios = [
        (s.name, s.service, s.administrations, s.contained)
        for s in SCENARIOS
        if s.name in ("charting-1", "discharge-8", "discharge-128")
        and (not args.smoke or s.name in SMOKE_SCENARIOS)
    ]
    sys.path.insert(0, str(BENCH))
    from stages import run_stage_timings

    load_after = load_average()
    stages = run_stage_timings(stage_scenarios, 20 if args.smoke else 300, SEED)
    return {
        "date": started_at.isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine(),
        "settings": {
            "workers": args.workers,
            "duration_s": duration,
            "warmup_s": args.warmup,
            "concurrency": concurrencies,
            "seed": SEED,
            "smoke": args.smoke,
            "load_generator": (
                "wrk -t1 (one thread), POST of a body template filled per request"
                " (new administration ids and times, bench/bodies.py)"
            ),
        },
        "load_average": {"before": load_before, "after_http_runs": load_after},
        "start_to_first_answer_s": start_s,
        "rss": {
            "workers_peak_mb": {str(pid): kb / 1024 for pid, kb in sorted(peak_kb.items())},
            "master_mb": master.get("VmHWM", 0) / 1024,
        },
        "scenarios": [s.__dict__ for s in scenarios],
        "runs": runs,
        "stages": stages,
    }


_MARKED_SECTION = re.compile(r"^<!-- ([a-z0-9-]+):start.*?^<!-- \1:end -->", re.M | re.S)


def marked_sections(text: str) -> list[str]:
    """Every ``<!-- name:start -->`` … ``<!-- name:end -->`` block of a RESULTS.md, in order."""
    return [match.group(0) for match in _MARKED_SECTION.finditer(text)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="injection-cds benchmark (issue 5)")
    parser.add_argument("--smoke", action="store_true", help="a few seconds, for CI")
    parser.add_argument("--duration", type=int, default=None, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up seconds per scenario")
    parser.add_argument("--concurrency", default=None, help="comma-separated (default 1,16)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scenarios", default=None, help="comma-separated scenario names")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="seconds to wait for the load average to fall below --quiet-load (default 120)",
    )
    parser.add_argument(
        "--report-only",
        type=Path,
        default=None,
        help="rewrite RESULTS.md and the plot from this results.json, without running",
    )
    parser.add_argument("--quiet-load", type=float, default=0.5)
    parser.add_argument(
        "--out-dir", type=Path, default=None, help="default bench/ (temp for smoke)"
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None and args.report_only is None:
        print("wrk is not on PATH: apt-get install -y wrk", file=sys.stderr)
        return 2
    if args.duration is None:
        args.duration = 1 if args.smoke else 10
    if args.warmup is None:
        args.warmup = 0 if args.smoke else 2
    if args.quiet_wait is None:
        args.quiet_wait = 0 if args.smoke else 120
    if args.concurrency is None:
        args.concurrency = "16" if args.smoke else "1,16"
    temporary = None
    if args.out_dir is None:
        if args.smoke:
            temporary = tempfile.mkdtemp(prefix="injection-cds-smoke-")
            args.out_dir = Path(temporary)
        else:
            args.out_dir = BENCH
    out: Path = args.out_dir
    if args.report_only:
        result = json.loads(args.report_only.read_text())
        sys.path.insert(0, str(BENCH))
    else:
        result = run(args)
        (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    plot_name = "latency_vs_administrations.png"
    plotted = plot(result, out / plot_name)
    text = markdown(result, plot_name if plotted else None)
    audit = BENCH / "AUDIT-RESULTS.md"
    if audit.exists() and not args.smoke:
        text = text.rstrip("\n") + "\n\n" + audit_section(audit.read_text()) + "\n"
    if not args.smoke:
        # The sections other benchmarks keep here (card counts, drug reference, Spark ...),
        # each between its own start and end markers: carried over as they are.
        previous = out / "RESULTS.md"
        for kept in marked_sections(previous.read_text() if previous.exists() else ""):
            text = text.rstrip("\n") + "\n\n" + kept + "\n"
    (out / "RESULTS.md").write_text(text)
    print()
    print(text)
    print(f"written: {out / 'RESULTS.md'}, {out / 'results.json'}")
    bad = sum(r["errors"] for r in result["runs"])
    if bad:
        print(f"error: {bad} failed requests (see {out / 'server.log'})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
