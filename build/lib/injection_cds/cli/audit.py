"""``injection-cds audit INPUT... --out DIR``: the service's rules over a whole export."""

from __future__ import annotations

from pathlib import Path

import click

from injection_cds.audit import run_audit, summary_text


@click.command("audit")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for worklist.csv, findings.json and report.html.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: every core).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (default: only when stderr is a terminal).",
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Where the temporary spill store goes (default: the system temp directory).",
)
def audit_command(
    inputs: tuple[Path, ...],
    out_dir: Path,
    workers: int | None,
    progress: bool | None,
    config_file: str | None,
    work_dir: Path | None,
) -> None:
    """Audit Bulk FHIR NDJSON files, Bundles or directories of them.

    Groups the MedicationAdministrations by encounter, runs the service's rules (the
    encounter-discharge hook) and writes a worklist, findings.json and report.html.
    """
    from injection_cds.config import ConfigError, load_config
    from injection_cds.reference.settings import rule_context_from_config

    try:
        ctx = rule_context_from_config(load_config(config_file=config_file))
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    result = run_audit(
        list(inputs), out_dir, ctx=ctx, workers=workers, progress=progress, work_dir=work_dir
    )
    click.echo(summary_text(result))
