"""Bulk FHIR NDJSON exports of synthetic encounters (plain or gzip)."""

from __future__ import annotations

import gzip as gzip_module
import io
import os
from collections.abc import Iterator
from pathlib import Path
from random import Random
from typing import Final

import orjson

from injection_cds.devtools.synthetic.constants import FLUSH_BYTES, Json
from injection_cds.devtools.synthetic.encounters import generate_encounter
from injection_cds.devtools.synthetic.resources import EncounterResources

# --- Bulk FHIR NDJSON ----------------------------------------------------------------------
BULK_TYPES: Final = (
    "Patient",
    "Encounter",
    "Condition",
    "Coverage",
    "ChargeItem",
    "Medication",
    "MedicationAdministration",
)


def iter_bulk_encounters(
    n_administrations: int, seed: int, *, gap_rate: float = 0.2
) -> Iterator[EncounterResources]:
    """Encounters (1-4 administrations each) until ``n_administrations`` are generated.

    About a third of the encounters are a returning patient's (from a bounded pool of
    recent patients), whose Patient and Coverage were yielded before: those encounters come
    with an empty ``coverage`` list, which is how a writer knows not to repeat the Patient.
    """
    rng = Random(seed)
    recent: list[tuple[Json, Json]] = []
    left = n_administrations
    while left > 0:
        count = min(left, rng.choices((1, 2, 3, 4), weights=(55, 25, 12, 8))[0])
        returning = bool(recent) and rng.random() < 0.35
        patient, coverage = rng.choice(recent) if returning else (None, None)
        visit = generate_encounter(
            rng,
            count,
            n_conditions=rng.choice((1, 1, 2, 3)),
            n_charge_items=rng.choice((0, 1, 2, 2)),
            gap_rate=gap_rate,
            contained=False,
            patient=patient,
            coverage=coverage,
        )
        if returning:
            visit["coverage"] = []
        else:
            recent.append((visit["patient"], visit["coverage"][0]))
            if len(recent) > 200:
                recent.pop(rng.randrange(len(recent)))
        left -= count
        yield visit


def write_bulk_ndjson(
    out_dir: str | os.PathLike[str],
    n_administrations: int,
    seed: int,
    gzip: bool = False,
    *,
    gap_rate: float = 0.2,
) -> dict[str, int]:
    """Write Bulk FHIR NDJSON, one file per resource type; return the count per type.

    Streams encounter by encounter (memory stays constant however many administrations).
    Medications are separate resources, referenced as ``Medication/<id>``. Files are named
    ``<Type>.ndjson`` (``.ndjson.gz`` with ``gzip``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".ndjson.gz" if gzip else ".ndjson"
    handles: dict[str, io.BufferedIOBase] = {}
    pending: dict[str, list[bytes]] = {t: [] for t in BULK_TYPES}
    sizes = dict.fromkeys(BULK_TYPES, 0)
    counts = dict.fromkeys(BULK_TYPES, 0)

    def flush(resource_type: str) -> None:
        handles[resource_type].write(b"".join(pending[resource_type]))
        pending[resource_type].clear()
        sizes[resource_type] = 0

    try:
        for resource_type in BULK_TYPES:
            path = out / f"{resource_type}{suffix}"
            handles[resource_type] = (
                gzip_module.GzipFile(path, "wb", compresslevel=5, mtime=0)
                if gzip
                else open(path, "wb")  # noqa: SIM115 - closed in the finally below
            )
        for visit in iter_bulk_encounters(n_administrations, seed, gap_rate=gap_rate):
            groups: list[tuple[str, list[Json]]] = [
                ("Patient", [visit["patient"]] if visit["coverage"] else []),
                ("Encounter", [visit["encounter"]]),
                ("Condition", visit["conditions"]),
                ("Coverage", visit["coverage"]),
                ("ChargeItem", visit["charge_items"]),
                ("Medication", visit["medications"]),
                ("MedicationAdministration", visit["administrations"]),
            ]
            for resource_type, resources in groups:
                for resource in resources:
                    line = orjson.dumps(resource, option=orjson.OPT_APPEND_NEWLINE)
                    pending[resource_type].append(line)
                    sizes[resource_type] += len(line)
                counts[resource_type] += len(resources)
                if sizes[resource_type] > FLUSH_BYTES:
                    flush(resource_type)
        for resource_type in BULK_TYPES:
            flush(resource_type)
    finally:
        for handle in handles.values():
            handle.close()
    return counts
