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
