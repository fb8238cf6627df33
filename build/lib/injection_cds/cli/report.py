"""``injection-cds report``: card outcomes per rule, from the card ledger and feedback."""

from __future__ import annotations

import json

import click

from injection_cds.config import ConfigError, load_config
from injection_cds.store.analytics import (
    build_report,
    parse_since,
    report_csv,
    report_json,
    report_text,
)
from injection_cds.store.ledger import store_from_config


@click.command("report")
@click.option("--since", default=None, help="Only cards issued on or after DATE (YYYY-MM-DD).")
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
@click.option(
    "--database-url",
    default=None,
    help="SQLAlchemy URL of the ledger (default: from the configuration).",
)
def report(
    since: str | None, output: str, config_file: str | None, database_url: str | None
) -> None:
    """Per rule: cards shown, accepted, overridden, override rate, top override reasons."""
    try:
        config = load_config(config_file=config_file)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    if database_url:
        config["database_url"] = database_url
    try:
        since_at = parse_since(since) if since else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    store = store_from_config(config, read_only=True)
    try:
        result = build_report(store, since_at)
    finally:
        store.close()
    if output == "json":
        click.echo(json.dumps(report_json(result), indent=2, ensure_ascii=False))
    elif output == "csv":
        click.echo(report_csv(result), nl=False)
    else:
        click.echo(report_text(result), nl=False)
