"""``injection-cds audit INPUT... --out DIR``: the service's rules over a whole export."""

from __future__ import annotations

from pathlib import Path

import click

from injection_cds.audit import AuditResult, run_audit, summary_text


@click.command("audit")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--out",
    "out_dir",
    required=True,
    help="Directory for worklist.csv, findings.json and report.html (with --engine spark, "
    "any Hadoop path; worklist.parquet and findings.parquet go there too).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="local: worker processes on this machine; spark: a Spark job (the spark extra).",
)
@click.option(
    "--master",
    default=None,
    help="Spark master URL (--engine spark; default: spark-submit's, else local[*]).",
)
@click.option(
    "--files/--no-files",
    default=True,
    help="--engine spark: also write worklist.csv and findings.json (streamed through the "
    "driver); --no-files leaves the Parquet outputs and report.html.",
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
    inputs: tuple[str, ...],
    out_dir: str,
    engine: str,
    master: str | None,
    files: bool,
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
    if engine == "spark":
        try:
            from injection_cds.audit.spark import run_spark_audit
        except ImportError:
            raise click.ClickException(
                "--engine spark needs the spark extra: pip install 'injection-cds[spark]'"
            ) from None
        result = run_spark_audit(list(inputs), out_dir, ctx=ctx, master=master, files=files)
        written = [*(("worklist.csv", "findings.json") if files else ()), "report.html"]
        written += ["worklist.parquet", "findings.parquet"]
        lines = summary_text(result).splitlines()[:-1]
        base = out_dir.rstrip("/")
        click.echo("\n".join([*lines, "wrote " + ", ".join(f"{base}/{n}" for n in written)]))
        _require_something_audited(result)
        return
    else:
        for given in inputs:
            if not Path(given).exists():
                raise click.BadParameter(f"Path '{given}' does not exist.", param_hint="INPUTS")
        result = run_audit(
            [Path(p) for p in inputs],
            Path(out_dir),
            ctx=ctx,
            workers=workers,
            progress=progress,
            work_dir=work_dir,
        )
    click.echo(summary_text(result))
    _require_something_audited(result)


def _require_something_audited(result: AuditResult) -> None:
    """Exit 1 when every record was skipped, or there was none.

    A scheduled audit must not report success on an export it could not read; some records
    skipped is still a run (they are listed in findings.json).
    """
    totals = result.totals
    if totals.records_read == totals.skipped_count:
        raise click.ClickException(
            f"nothing was audited: {totals.files} files, {totals.records_read} records, "
            f"{totals.skipped_count} skipped (findings.json lists them)"
        )
