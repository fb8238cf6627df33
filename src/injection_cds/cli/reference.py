"""``injection-cds reference build|load|show``: the CMS drug files, built and loaded.

``build`` writes the shipped reference from the CMS files (a release does this);
``load`` adds a newly downloaded quarter to the instance directory (a user does this each
quarter, no release needed); ``show`` says which quarters the service will use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from injection_cds.reference import build as builder

_SHIPPED_DATA = Path(__file__).resolve().parents[1] / "reference" / "data"


@click.group("reference")
def reference() -> None:
    """The CMS drug reference (ASP crosswalk, payment limits, OPPS Addendum B)."""


def _read(files: tuple[Path, ...]) -> dict[str, Any]:
    try:
        return builder.read_files(files)
    except (builder.BuildError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@reference.command("build")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=_SHIPPED_DATA,
    show_default="the package's reference/data",
    help="Where to write cms-<quarter>.json.gz.",
)
def build_command(files: tuple[Path, ...], out_dir: Path) -> None:
    """Build the shipped reference from the CMS files (or a directory of them)."""
    doc = _read(files)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / builder.output_name(doc)
    target.write_bytes(builder.encode(doc))
    click.echo(f"wrote {target} ({len(doc['codes'])} codes, {len(doc['ndcs'])} NDCs)")


@reference.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
def load_command(files: tuple[Path, ...], config_file: str | None) -> None:
    """Load a newly downloaded quarter (the three CMS files, or their directory).

    The quarter goes into <instance_dir>/reference and is used from the next start for the
    dates of service it covers; a quarter already loaded is replaced.
    """
    from injection_cds.config import ConfigError, load_config
    from injection_cds.reference.settings import loaded_quarters_dir

    try:
        config = load_config(config_file=config_file)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    doc = _read(files)
    folder = loaded_quarters_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / builder.output_name(doc)
    target.write_bytes(builder.encode(doc))
    click.echo(
        f"loaded {doc['quarter']} ({doc['start']} to {doc['end']}): {len(doc['codes'])} codes, "
        f"{len(doc['ndcs'])} NDCs -> {target}; restart the service to use it"
    )


@reference.command("show")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
def show_command(config_file: str | None) -> None:
    """The CMS quarters the service uses, and the files each was built from."""
    from injection_cds.config import ConfigError, load_config
    from injection_cds.reference.settings import rule_context_from_config

    try:
        catalog = rule_context_from_config(load_config(config_file=config_file)).catalog
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    for quarter in catalog.quarters:
        newest = " (newest)" if quarter is catalog.quarter else ""
        click.echo(f"{quarter.label}{newest}: {quarter.start} to {quarter.end}")
        for kind, info in sorted(quarter.files.items()):
            click.echo(f"  {kind}: {info.label}")
