"""Cards per charting call, on data nobody on the team wrote and on the project's fixtures.

A nurse charting one injection makes one ``injection-charting`` call. For every
MedicationAdministration of ``../shared/data/external/*/`` this script builds that call (the
administration with its Medication and order in the context Bundle; the Encounter and its
Conditions prefetched), runs it through the pipeline and counts the cards. The fixtures'
charting requests (golden, per rule, examples) are counted the same way.

It also checks that no card repeats another's root cause:

- two cards reporting the same rule on the same resource;
- a card reporting a finding that only follows from another card's (lot, expiration or NDC
  on a drug that is not identified; a J3490 line for a drug nobody identified);
- a site finding on an IV push or infusion, or on a drug given only IV;
- two cards of info-level documentation items on the same administration (they fold).

Run: ``.venv/bin/python bench/card_counts.py`` (prints the table; ``--write`` also puts it
in ``bench/CARD-COUNTS.md`` and in the card-count section of ``bench/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from injection_cds.core import codes
from injection_cds.core.context import RuleContext
from injection_cds.protocol.pipeline import CallResult, call_service

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from machine import git_commit  # noqa: E402

EXTERNAL = ROOT.parent / "shared" / "data" / "external"
DATASETS = ("hl7-fhir-r4-examples", "synthea-senzing-demo", "mimic-iv-demo-fhir")
CHARTING_HOOK = "org.injectioncds.medicationadministration-sign"
SERVICE = "injection-charting"
BASE_URL = "https://cds.example.org"
FINDINGS_KEY = "org.injectioncds.findings"
SECTION_START = "<!-- card-counts:start (bench/card_counts.py --write) -->"
SECTION_END = "<!-- card-counts:end -->"
TARGET_MEDIAN = 3
_NAMESPACE = uuid.UUID("3c9d7f0a-1e52-4b8e-9a47-5f0c2d6e8b13")  # hookInstance per call
# The same script run on the code before issue 12 (one card per rule, every finding at
# charting): `git worktree add /tmp/before ac1b655 && cp bench/card_counts.py /tmp/before/bench/
# && cd /tmp/before && PYTHONPATH=src ../cards/.venv/bin/python bench/card_counts.py`.
BEFORE = (
    "Before issue 12 (commit ac1b655, same script): median cards per injectable charting "
    "call 9 (HL7 examples 6, Synthea 10, MIMIC 9; mean 9.0, max 10), 133 repeated root "
    "causes (131 info items of one administration on separate cards, lot and expiration "
    "beside an unidentified drug)."
)

# A finding that only follows from another one on the same resource: the first is the root.
FOLLOWS_FROM: dict[str, frozenset[str]] = {
    "DOC014": frozenset({"DOC003", "DOC004", "DOC006", "DOC007", "BIL011"}),
}

Json = dict[str, Any]


def _id(reference: Any) -> str:
    return str((reference or {}).get("reference", "")).split("/")[-1]


def _searchset(resources: list[Json]) -> Json:
    bundle: Json = {"resourceType": "Bundle", "type": "searchset", "total": len(resources)}
    if resources:
        bundle["entry"] = [{"resource": r, "search": {"mode": "match"}} for r in resources]
    return bundle


def _load(dataset: str) -> dict[str, list[Json]]:
    folder = EXTERNAL / dataset
    return {
        path.stem: [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        for path in sorted(folder.glob("*.ndjson"))
    }


def charting_requests(dataset: str) -> Iterator[Json]:
    """One charting call per administration of a dataset, as an EHR would send it."""
    data = _load(dataset)
    encounters = {e["id"]: e for e in data.get("Encounter", [])}
    medications = {m["id"]: m for m in data.get("Medication", [])}
    orders = {r["id"]: r for r in data.get("MedicationRequest", [])}
    conditions: dict[str, list[Json]] = defaultdict(list)
    for condition in data.get("Condition", []):
        conditions[_id(condition.get("encounter"))].append(condition)
    for number, administration in enumerate(data["MedicationAdministration"]):
        entries = [administration]
        medication = medications.get(_id(administration.get("medicationReference")))
        if medication is not None:
            entries.append(medication)
            for ingredient in medication.get("ingredient", []):
                inner = medications.get(_id(ingredient.get("itemReference")))
                if inner is not None:
                    entries.append(inner)
        order = orders.get(_id(administration.get("request")))
        if order is not None:
            entries.append(order)
        encounter_id = _id(administration.get("context")) or "unknown"
        encounter = encounters.get(encounter_id)
        own = {encounter_id}
        if encounter and encounter.get("partOf"):
            own.add(_id(encounter["partOf"]))
        yield {
            "hook": CHARTING_HOOK,
            "hookInstance": str(uuid.uuid5(_NAMESPACE, f"{dataset}/{number}")),
            "context": {
                "userId": "Practitioner/nurse",
                "patientId": _id(administration.get("subject")) or "unknown",
                "encounterId": encounter_id,
                "medicationAdministrations": {
                    "resourceType": "Bundle",
                    "type": "collection",
                    "entry": [{"resource": r} for r in entries],
                },
            },
            "prefetch": {
                "encounter": encounter,
                "conditions": _searchset([c for e in sorted(own) for c in conditions[e]]),
            },
        }


def fixture_requests() -> Iterator[tuple[str, Json]]:
    """The charting requests among the project's fixtures (golden, per rule, examples)."""
    folders = [ROOT / "fixtures" / "golden", ROOT / "fixtures" / "rules", ROOT / "fixtures"]
    seen: set[Path] = set()
    for folder in folders:
        for path in sorted(folder.rglob("*.json")):
            if path in seen or path.name.endswith(".response.json"):
                continue
            seen.add(path)
            try:
                body = json.loads(path.read_text("utf-8"))
            except ValueError:
                continue
            if isinstance(body, dict) and body.get("hook") == CHARTING_HOOK:
                yield str(path.relative_to(ROOT)), body


def _findings(card: Json) -> list[Json]:
    listed = (card.get("extension") or {}).get(FINDINGS_KEY) or []
    return [f for f in listed if isinstance(f, dict)]


def repeated_root_causes(result: CallResult) -> list[str]:
    """What in this answer repeats another card's root cause (empty when nothing does)."""
    problems: list[str] = []
    by_resource: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for number, card in enumerate(result.cards):
        for finding in _findings(card):
            by_resource[finding["resource"]].append((number, finding["rule"]))
    administrations = {a.reference: a for a in result.visit.administrations}
    for resource, reported in by_resource.items():
        rules = Counter(rule for _, rule in reported)
        problems += [f"{rule} twice on one resource" for rule, n in rules.items() if n > 1]
        for root, followers in FOLLOWS_FROM.items():
            if root in rules:
                problems += [f"{rule} beside {root}" for rule in rules if rule in followers]
        administration = administrations.get(resource)
        if (
            "DOC002" in rules
            and administration is not None
            and administration.effective_route_kind in codes.IV_ROUTES
        ):
            problems.append("DOC002 on an IV administration")
        info_cards = {
            number
            for number, rule in reported
            if rule.startswith("DOC") and result.cards[number]["indicator"] == "info"
        }
        if len(info_cards) > 1:
            problems.append("info-level documentation items of one administration not folded")
    return problems


@dataclass
class Tally:
    """Cards per call for one source of calls."""

    name: str
    counts: list[int] = field(default_factory=list)
    injectable_counts: list[int] = field(default_factory=list)
    rules: Counter[str] = field(default_factory=Counter)
    repeats: Counter[str] = field(default_factory=Counter)

    def add(self, result: CallResult) -> None:
        cards = result.cards
        self.counts.append(len(cards))
        if any(a.billable_candidate for a in result.visit.administrations):
            self.injectable_counts.append(len(cards))
        for card in cards:
            self.rules[card["source"]["topic"]["code"]] += 1
        self.repeats.update(repeated_root_causes(result))

    def row(self) -> str:
        def figures(values: list[int]) -> str:
            if not values:
                return "– | – | – | –"
            ordered = sorted(values)
            p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
            return (
                f"{statistics.median(values):g} | {statistics.fmean(values):.2f} | {p90} | "
                f"{max(values)}"
            )

        return (
            f"| {self.name} | {len(self.counts)} | {figures(self.counts)} | "
            f"{len(self.injectable_counts)} | {figures(self.injectable_counts)} | "
            f"{sum(self.repeats.values())} |"
        )


def run() -> list[Tally]:
    """Every charting call of every dataset and fixture, tallied per source."""
    ctx = RuleContext()
    tallies = []
    for dataset in DATASETS:
        if not (EXTERNAL / dataset).is_dir():
            print(f"skipped {dataset}: {EXTERNAL / dataset} is not here", file=sys.stderr)
            continue
        tally = Tally(dataset)
        for body in charting_requests(dataset):
            tally.add(call_service(SERVICE, body, ctx=ctx, base_url=BASE_URL))
        tallies.append(tally)
    fixtures = Tally("fixtures (charting)")
    for _, body in fixture_requests():
        fixtures.add(call_service(SERVICE, body, ctx=ctx, base_url=BASE_URL))
    tallies.append(fixtures)
    return tallies


def markdown(tallies: list[Tally]) -> str:
    """The figures as a markdown section."""
    external = [t for t in tallies if t.name in DATASETS]
    injectable = [n for t in external for n in t.injectable_counts]
    everything = [n for t in external for n in t.counts]
    median = statistics.median(injectable) if injectable else None
    repeats = sum(sum(t.repeats.values()) for t in tallies)
    lines = [
        "## Cards per charting call",
        "",
        "Produced by `.venv/bin/python bench/card_counts.py --write`; do not edit by hand.",
        f"Date {datetime.now(UTC).isoformat(timespec='seconds')}, commit {git_commit()}.",
        "One `injection-charting` call per MedicationAdministration of `../shared/data/external`",
        "(its Medication and order in the context Bundle, the Encounter and its Conditions",
        "prefetched) and per charting fixture; default configuration (commercial payer).",
        "*Injectable* calls chart a completed administration given by injection (the ones the",
        "documentation rules look at); oral and not-given doses answer no documentation card.",
        "",
        "| source | calls | median | mean | p90 | max | injectable calls | median | mean | p90 "
        "| max | repeated root causes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[t.row() for t in tallies],
        "",
        "| target | measured | met |",
        "|---|---|---|",
        f"| median cards per injectable charting call (external data) <= {TARGET_MEDIAN} | "
        f"{median if median is not None else '–'} (all calls: "
        f"{statistics.median(everything) if everything else '–'}) | "
        f"{'yes' if median is not None and median <= TARGET_MEDIAN else '**no**'} |",
        f"| no card repeats another's root cause | {repeats} repeats | "
        f"{'yes' if repeats == 0 else '**no**'} |",
        "",
        "Cards by leading rule (external data): "
        + ", ".join(
            f"{rule} {n}"
            for rule, n in sorted(
                sum((t.rules for t in external), Counter()).items(), key=lambda kv: -kv[1]
            )
        ),
    ]
    found = sum((t.repeats for t in tallies), Counter())
    if found:
        lines += ["", "Repeats: " + ", ".join(f"{what} ({n})" for what, n in found.most_common())]
    lines += ["", BEFORE]
    return "\n".join(lines) + "\n"


def section(text: str) -> str:
    """The card-count section as RESULTS.md holds it (bench/run.py keeps it there too)."""
    return f"{SECTION_START}\n{text.rstrip()}\n{SECTION_END}\n"


def write(text: str) -> None:
    """Write CARD-COUNTS.md and the card-count section of RESULTS.md."""
    (BENCH / "CARD-COUNTS.md").write_text(text)
    results = BENCH / "RESULTS.md"
    section_text = section(text)
    current = results.read_text("utf-8") if results.exists() else "# Benchmark results\n"
    if SECTION_START in current and SECTION_END in current:
        head, rest = current.split(SECTION_START, 1)
        tail = rest.split(SECTION_END, 1)[1].lstrip("\n")
        current = head + section_text + (("\n" + tail) if tail else "")
    else:
        current = current.rstrip("\n") + "\n\n" + section_text
    results.write_text(current)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update CARD-COUNTS.md, RESULTS.md")
    args = parser.parse_args(argv)
    text = markdown(run())
    print(text)
    if args.write:
        write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
