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
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bodies import instantiate, template_for  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LUA = BENCH / "post.lua"
HOST = "127.0.0.1"
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


# --- the server ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def serve_command(port: int, workers: int) -> list[str]:
    script = Path(sys.executable).with_name("injection-cds")
    args = ["serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from injection_cds.cli.main import main; main()", *args]


def post(url: str, body: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Server:
    """``injection-cds serve`` in a child process, with its log in a file.

    The service runs on its defaults (INFO request log lines, SQLite ledger) except for the
    instance directory, which is temporary.
    """

    def __init__(self, port: int, workers: int, instance_dir: Path, log_path: Path) -> None:
        self.port = port
        self.workers = workers
        self.log_path = log_path
        env = dict(os.environ)
        env.pop("INJECTION_CDS_CONFIG", None)
        env["INJECTION_CDS_INSTANCE_DIR"] = str(instance_dir)
        env["INJECTION_CDS_BENCHMARK_MODE"] = "1"  # serves POST /_floor
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            serve_command(port, workers),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=instance_dir,
            start_new_session=True,
        )

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def wait_first_answer(self, path: str, body: bytes, timeout: float = 30.0) -> float:
        """Seconds from process start to the first 200 answer to ``path``."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log()}")
            try:
                status, _ = post(self.url(path), body, timeout=2.0)
            except (OSError, urllib.error.URLError):
                time.sleep(0.01)
                continue
            if status == 200:
                return time.perf_counter() - self.started
            raise RuntimeError(f"{path} answered {status}:\n{self.log()}")
        raise RuntimeError(f"no answer within {timeout} s:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid:
                children.append(int(entry.name))
        return sorted(children)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn: graceful shutdown of master and workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in kB."""
    found: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    except OSError:
        pass
    return found


# --- wrk -------------------------------------------------------------------------------------
def run_wrk(url: str, body_path: Path, connections: int, duration: int) -> dict[str, Any]:
    env = dict(os.environ, BENCH_BODY=str(body_path), BENCH_RUN=uuid.uuid4().hex[:12])
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            raw = json.loads(line.removeprefix("BENCH_JSON "))
            break
    else:
        raise RuntimeError(f"wrk gave no result ({done.returncode}):\n{done.stdout}{done.stderr}")
    seconds = raw["duration_us"] / 1e6
    errors = sum(v for k, v in raw.items() if k.startswith("errors_"))
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / seconds if seconds else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "mean_ms": raw["mean_us"] / 1000,
        "errors": errors,
        "errors_status": raw["errors_status"],
    }


# --- the run ---------------------------------------------------------------------------------
def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "src"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" (+ uncommitted changes in src/)" if dirty else "")


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_total = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_total = int(line.split()[1]) // 1024
    except OSError:
        pass
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_mb": mem_total,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": (wrk_version.stdout or wrk_version.stderr).splitlines()[0].strip(),
    }


_TICKS = os.sysconf("SC_CLK_TCK")


def busy_ticks() -> int:
    """CPU ticks spent busy by the whole machine (all CPUs), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle


def process_ticks(pids: list[int]) -> int:
    """utime + stime of these processes, in ticks (vanished ones count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def children_ticks() -> int:
    """CPU of this process's waited-for children (the wrk runs), in ticks."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round((usage.ru_utime + usage.ru_stime) * _TICKS)


def self_ticks() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round((usage.ru_utime + usage.ru_stime) * _TICKS)


def load_average() -> float:
    """The 1-minute load average (other work on the machine skews every figure)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def wait_quiet(limit: float, timeout: float) -> float:
    """Wait (up to ``timeout`` s) for the 1-minute load average to fall below ``limit``."""
    deadline = time.monotonic() + timeout
    load = load_average()
    while load > limit and time.monotonic() < deadline:
        print(f"waiting for a quieter machine: load average {load:.2f} > {limit}", flush=True)
        time.sleep(10)
        load = load_average()
    return load


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
