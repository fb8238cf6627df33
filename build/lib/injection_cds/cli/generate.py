"""``injection-cds generate``: synthetic hook requests and Bulk FHIR NDJSON, for demos and load.

injection-cds generate request --service injection-discharge --administrations 8 --seed 1
injection-cds generate bulk OUTDIR --administrations 100000 --seed 1 --gzip
"""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from injection_cds.devtools import synthetic


@click.group("generate")
def generate() -> None:
    """Generate seeded synthetic FHIR R4 data (same seed, same output)."""


@generate.command("request")
@click.option(
    "--service",
    "service",
    type=click.Choice(sorted(synthetic.SERVICE_HOOKS)),
    default=synthetic.SERVICE_CHARTING,
    show_default=True,
    help="The CDS service the request is for.",
)
@click.option("--administrations", "-n", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--conditions", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--charge-items", type=click.IntRange(min=0), default=2, show_default=True)
@click.option(
    "--gap-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.2,
    show_default=True,
    help="Fraction of administrations with a charting gap.",
)
@click.option(
    "--contained/--separate-medications",
    default=True,
    show_default=True,
    help="Contain each Medication in its administration (#med1) or send it separately.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--compact", is_flag=True, help="One line of JSON instead of indented.")
def request(
    service: str,
    administrations: int,
    conditions: int,
    charge_items: int,
    gap_rate: float,
    contained: bool,
    seed: int,
    compact: bool,
) -> None:
    """Print a whole CDS Hooks request (context and prefetch) for SERVICE as JSON."""
    body = synthetic.hook_request(
        service,
        n_administrations=administrations,
        seed=seed,
        n_conditions=conditions,
        n_charge_items=charge_items,
        gap_rate=gap_rate,
        contained=contained,
    )
    option = 0 if compact else orjson.OPT_INDENT_2
    click.echo(orjson.dumps(body, option=option).decode())


@generate.command("bulk")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--administrations", "-n", type=click.IntRange(min=1), default=1000, show_default=True
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--gap-rate", type=click.FloatRange(0.0, 1.0), default=0.2, show_default=True)
@click.option("--gzip", "use_gzip", is_flag=True, help="Write .ndjson.gz files.")
def bulk(out_dir: Path, administrations: int, seed: int, gap_rate: float, use_gzip: bool) -> None:
    """Write Bulk FHIR NDJSON (one file per resource type) into OUT_DIR."""
    counts = synthetic.write_bulk_ndjson(
        out_dir, administrations, seed, gzip=use_gzip, gap_rate=gap_rate
    )
    for resource_type, count in counts.items():
        click.echo(f"{resource_type}\t{count}")
