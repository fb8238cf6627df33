"""RESULTS.md from a run: the table, target checks, linearity, analysis, the plot."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCH = Path(__file__).resolve().parent


# --- reporting -------------------------------------------------------------------------------
def _find(runs: list[dict[str, Any]], scenario: str, endpoint: str, c: int) -> dict[str, Any]:
    for entry in runs:
        if (entry["scenario"], entry["endpoint"], entry["concurrency"]) == (scenario, endpoint, c):
            return entry
    return {}


def results_table(result: dict[str, Any]) -> str:
    lines = [
        "| scenario | adm. | body kB | cards | conc. | req/s | floor req/s | ratio to floor"
        " | p50 ms | p95 ms | p99 ms | floor p50 / p99 ms | errors | other CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    runs = result["runs"]
    for scenario in result["scenarios"]:
        for c in result["settings"]["concurrency"]:
            svc = _find(runs, scenario["name"], "service", c)
            floor = _find(runs, scenario["name"], "floor", c)
            if not svc:
                continue
            ratio = svc["rps"] / floor["rps"] if floor.get("rps") else float("nan")
            lines.append(
                f"| {scenario['name']} | {scenario['administrations']} "
                f"| {svc['body_bytes'] / 1024:.1f} | {svc['cards']} | {c} | {svc['rps']:.0f} "
                f"| {floor.get('rps', 0):.0f} | {ratio:.0%} | {svc['p50_ms']:.2f} "
                f"| {svc['p95_ms']:.2f} | {svc['p99_ms']:.2f} "
                f"| {floor.get('p50_ms', 0):.2f} / {floor.get('p99_ms', 0):.2f} "
                f"| {svc['errors'] + floor.get('errors', 0)} "
                f"| {svc.get('other_cpus', 0):.2f} / {floor.get('other_cpus', 0):.2f} |"
            )
    return "\n".join(lines)


def target_checks(result: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    runs = result["runs"]
    checks: list[tuple[str, str, bool | None]] = []

    def add(name: str, value: float | None, limit: float, fmt: str, lower_is_better: bool) -> None:
        if value is None:
            checks.append((name, "not measured", None))
            return
        ok = value <= limit if lower_is_better else value >= limit
        checks.append((name, fmt.format(value), ok))

    svc = _find(runs, "charting-1", "service", 16)
    floor = _find(runs, "charting-1", "floor", 16)
    ratio = svc["rps"] / floor["rps"] if svc and floor.get("rps") else None
    add("charting: throughput >= 50 % of the floor (c=16)", ratio, 0.5, "{:.0%}", False)
    add(
        "charting: p99 <= 25 ms (c=16)",
        svc.get("p99_ms") if svc else None,
        25.0,
        "{:.2f} ms",
        True,
    )
    d8 = _find(runs, "discharge-8", "service", 16)
    add("discharge 8: p99 <= 50 ms (c=16)", d8.get("p99_ms") if d8 else None, 50, "{:.2f} ms", True)
    d128 = _find(runs, "discharge-128", "service", 1)
    add(
        "discharge 128: p50 <= 150 ms (c=1)",
        d128.get("p50_ms") if d128 else None,
        150,
        "{:.2f} ms",
        True,
    )
    peaks = result["rss"]["workers_peak_mb"].values()
    add("peak RSS per worker <= 150 MB", max(peaks) if peaks else None, 150, "{:.0f} MB", True)
    add("start to first answer <= 3 s", result["start_to_first_answer_s"], 3, "{:.2f} s", True)
    line = linearity(result)
    if line is not None:
        predicted, observed, per_admin = line
        ok = abs(observed - predicted) <= 0.35 * predicted
        checks.append(
            (
                "cost linear in administrations (c=1 p50 at 32 vs the line through 1 and 128)",
                f"{observed:.2f} ms observed, {predicted:.2f} ms on the line;"
                f" {per_admin:.3f} ms per administration",
                ok,
            )
        )
    return checks


def linearity(result: dict[str, Any]) -> tuple[float, float, float] | None:
    runs = result["runs"]
    points = {n: _find(runs, f"discharge-{n}", "service", 1).get("p50_ms") for n in (1, 32, 128)}
    if any(v is None for v in points.values()):
        return None
    p1, p32, p128 = (float(points[n] or 0) for n in (1, 32, 128))
    per_admin = (p128 - p1) / 127
    return p1 + per_admin * 31, p32, per_admin


def markdown(result: dict[str, Any], plot_name: str | None) -> str:
    m = result["machine"]
    s = result["settings"]
    rss = result["rss"]
    load = result["load_average"]
    workers = ", ".join(f"{v:.0f}" for v in rss["workers_peak_mb"].values())
    parts = [
        "# Benchmark results",
        "",
        "Produced by `.venv/bin/python bench/run.py` (issue 5); do not edit by hand.",
        "",
        f"- **Date**: {result['date']}",
        f"- **Commit**: {result['commit']}",
        f"- **Machine**: {m['cpu']}, {m['cpus']} CPUs, {m['memory_mb']} MB RAM,"
        f" Linux {m['kernel']}, Python {m['python']}, {m['wrk']}",
        f"- **Setup**: `injection-cds serve --workers {s['workers']}` on 127.0.0.1;"
        f" {s['load_generator']}, {s['duration_s']} s per run after {s['warmup_s']} s warm-up;"
        " wrk and the server share the machine's CPUs. Seed "
        f"{s['seed']}: bodies from `injection_cds.devtools.synthetic.hook_request`.",
        "- **Floor**: `POST /_floor` on the same server with the same body (parses the JSON,"
        " answers `{\"cards\": []}`); the ratio is the scenario's req/s over the floor's.",
        "- **Other CPU**: CPUs' worth of work by other processes during the service / floor"
        " runs (/proc/stat busy time minus the server, wrk and this script); above ~0.2 the row"
        " was measured on a busy machine and its absolute figures are pessimistic.",
        f"- **Load average** (1 min, other work on the machine): {load['before']:.2f} before,"
        f" {load['after_http_runs']:.2f} after the HTTP runs",
        f"- **Start to first answer**: {result['start_to_first_answer_s']:.2f} s",
        f"- **Peak RSS per worker** (VmHWM): {workers} MB; master {rss['master_mb']:.0f} MB",
        "",
        "## Throughput and latency",
        "",
        results_table(result),
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for name, value, ok in target_checks(result):
        parts.append(f"| {name} | {value} | {'—' if ok is None else ('yes' if ok else '**no**')} |")
    parts += ["", "## Reading the figures", ""] + analysis(result)
    parts += ["", '## What changed and why (issue 5, "make it fast")', ""] + CHANGES
    from stages import stages_table

    parts += [
        "",
        "## Stage timings (in process, median (p95) ms)",
        "",
        "`json` decode body; `parse` envelope, FHIR validation, prefetch; `facts`; `rules`;"
        " `cards`; `encode` the answer; `store` record the cards in the SQLite ledger.",
        "",
        stages_table(result["stages"]),
    ]
    if plot_name:
        parts += ["", "## Latency against administrations", "", f"![latency]({plot_name})"]
    return "\n".join(parts) + "\n"


CHANGES = [
    "- **Honest bodies**: every request charts a *different* administration: wrk fills a body"
    " template per request (bench/bodies.py, post.lua) with new MedicationAdministration ids"
    " (also in their fullUrl and in the ChargeItems that reference them) and a new"
    " effectiveDateTime; the encounter, conditions, coverage, patient and Medications stay the"
    " same, as during a visit. So the validation cache below only answers for what really"
    " repeats. The template is split once, so filling it costs wrk no more than before (the"
    " floor is not slowed down).",
    "- **Validation cache** (`fhir.py`, `fhir.validation_cache_size`, default 4096, 0 off):"
    " a per-process LRU of the BLAKE2b digests of the canonical JSON of resources that"
    " validated; identical content is accepted without re-running the models; failures are"
    " never remembered. `id`/`meta` are part of the key (leaving them out would not help the"
    " synthetic audit data, where every record differs in more than its id, and `meta` would"
    " need its own checks).",
    "- **Bundle shells** checked by hand when they hold only `type`, `id`, `total` and entries"
    " of `fullUrl`/`search.mode`/`resource` with values the R4B model accepts; anything else"
    " still goes through the model (same answers and issues, tested).",
    "- **Charge lines once per call** (`billing.per_visit`): the rules and the BIL001 card"
    " extras asked for `injection_lines` and friends 3-4 times per call.",
    "- **Card ledger** (SQLite): one prepared multi-row `INSERT ... ON CONFLICT DO NOTHING` in"
    " a `BEGIN IMMEDIATE` transaction on a per-process connection, committed before the"
    " response is sent (WAL, synchronous=NORMAL: durable against a process crash, as before);"
    " no in-memory queue.",
    "- **Warm-up and `gc.freeze()`** in the gunicorn master before the fork: the workers'"
    " collections no longer walk the ~125k objects of the loaded app (the p99 tail).",
    "- **Fast validation path** (`fhir_fast.py`, `fhir.fast_validation`, default on): a"
    " structural checker compiled from the R4B models' own metadata (elements, cardinality,"
    ' choice groups, fhir_core\'s own primitive validators) answers "certainly valid" or'
    ' "not sure"; on "not sure" the full fhir.resources validation runs. Differential'
    " tests on every fixture, the external data, synthetic data and ~36,000 mutants: never"
    " more permissive. Validation time about 4x lower; peak RSS per worker +~18 MB (its"
    " memo of primitive results).",
]


def analysis(result: dict[str, Any]) -> list[str]:
    """Bullet points derived from this run's numbers (what limits the targets)."""
    runs = result["runs"]
    lines: list[str] = []
    svc1 = _find(runs, "charting-1", "service", 1)
    floor1 = _find(runs, "charting-1", "floor", 1)
    if svc1 and floor1:
        service_ms = 1000 / svc1["rps"] if svc1["rps"] else float("nan")
        floor_ms = 1000 / floor1["rps"] if floor1["rps"] else float("nan")
        lines.append(
            f"- Charting, one connection: {service_ms:.2f} ms per request against"
            f" {floor_ms:.2f} ms for the floor, so the service's own work is about"
            f" {service_ms - floor_ms:.2f} ms. Reaching 50 % of the floor's throughput needs"
            f" that work to be no more than the floor's own cost ({floor_ms:.2f} ms)."
        )
    stages = result.get("stages", {}).get("charting-1")
    if stages:
        total = stages["stages"]["total"]["median_ms"]
        parse = stages["stages"]["parse"]["median_ms"]
        store = stages["stages"]["store"]["median_ms"]
        parts = ", ".join(
            f"{name} {stages['stages'][name]['median_ms']:.2f} ms"
            for name in ("parse", "facts", "rules", "cards", "store")
            if name in stages["stages"]
        )
        lines.append(
            f"- In process the charting call costs {total:.2f} ms: {parts} (`parse` is the"
            f" envelope and the FHIR validation, {parse / total:.0%} of the call; `store` the"
            f" ledger write, {store:.2f} ms). No one stage dominates any more; the floor ratio"
            " needs all of them smaller (see bench/PROFILE.md)."
        )
    svc16 = _find(runs, "charting-1", "service", 16)
    if svc16 and svc16["rps"]:
        lines.append(
            f"- At 16 connections on {result['settings']['workers']} synchronous workers a"
            f" request mostly waits in the queue: by Little's law the mean latency is about"
            f" 16 / throughput = {16000 / svc16['rps']:.1f} ms here. A p99 of 25 ms needs a"
            " throughput well above 16 / 0.025 s = 640 requests/s, i.e. under ~2.5 ms of CPU"
            " per request for the server, wrk and the kernel together on this 2-CPU machine."
        )
    line = linearity(result)
    if line is not None:
        lines.append(
            f"- Each administration adds about {line[2]:.2f} ms (c=1 p50, discharge 1 to 128);"
            " the floor grows too (JSON parsing of a bigger body), far more slowly."
        )
    busiest = max((r.get("other_cpus", 0.0) for r in runs), default=0.0)
    if busiest > 0.2:
        lines.append(
            f"- Other processes used up to {busiest:.2f} CPUs during some runs (column"
            " 'other CPU'): those rows' absolute figures are pessimistic; the ratios to the"
            " floor, measured alongside, less so."
        )
    else:
        lines.append(
            f"- Other processes used at most {busiest:.2f} CPUs during any run: the machine"
            " was otherwise quiet (the load average counts this benchmark's own server and wrk)."
        )
    return lines


def plot(result: dict[str, Any], path: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = result["runs"]
    counts = sorted({r["administrations"] for r in runs if r["scenario"].startswith("discharge-")})
    if len(counts) < 2:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for c, style in zip(result["settings"]["concurrency"], ("-", "--"), strict=False):
        for key, marker in (("p50_ms", "o"), ("p99_ms", "^")):
            ys = [_find(runs, f"discharge-{n}", "service", c).get(key) for n in counts]
            ax.plot(counts, ys, style, marker=marker, label=f"{key[:3]}, concurrency {c}")
        floor = [_find(runs, f"discharge-{n}", "floor", c).get("p50_ms") for n in counts]
        ax.plot(counts, floor, style, color="grey", alpha=0.6, label=f"floor p50, conc. {c}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(counts, [str(n) for n in counts])
    ax.set_xlabel("administrations in the encounter-discharge request")
    ax.set_ylabel("latency (ms)")
    ax.set_title(f"injection-cds encounter-discharge latency ({result['commit'].split()[0]})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def audit_section(text: str) -> str:
    """The batch audit's figures (bench/audit_bench.py, AUDIT-RESULTS.md), one level down."""
    lines = []
    for line in text.splitlines():
        lines.append("#" + line if line.startswith("#") else line)
    return "\n".join(lines).strip()
