"""The ``injection-cds`` command: serve, check, and the commands of the other components."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import orjson

from injection_cds.config import ConfigError, load_config
from injection_cds.protocol.errors import ServiceError
from injection_cds.protocol.services import load_services

_INDICATOR_MARK = {"critical": "✖ CRITICAL", "warning": "▲ WARNING", "info": "● INFO"}


@click.group()
@click.version_option(package_name="injection-cds")
def main() -> None:
    """injection-cds: CDS Hooks checks of injection documentation and billing."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
@click.option("--timeout", default=30, show_default=True, type=int, help="Worker timeout (s).")
def serve(host: str, port: int, workers: int, config_file: str | None, timeout: int) -> None:
    """Run the service under gunicorn (a production WSGI server)."""
    from injection_cds.web.server import run_gunicorn

    try:
        load_config(config_file=config_file)  # fail fast, before forking workers
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    run_gunicorn(host=host, port=port, workers=workers, config_file=config_file, timeout=timeout)


def _service_for_hook(body: dict[str, Any]) -> str:
    hook = body.get("hook")
    for service in load_services().values():
        if service.hook == hook:
            return service.id
    raise click.ClickException(f"no service answers hook {hook!r}; give --service")


def _print_text(cards: list[dict[str, Any]]) -> None:
    if not cards:
        click.echo("No advice: the documentation is complete.")
        return
    for card in cards:
        mark = _INDICATOR_MARK.get(card["indicator"], card["indicator"])
        code = card["source"]["topic"]["code"]
        color = {"critical": "red", "warning": "yellow"}.get(card["indicator"], "cyan")
        click.secho(f"{mark}  {code}  {card['summary']}", fg=color, bold=True)
        for line in card.get("detail", "").splitlines():
            click.echo(f"    {line}")
        click.echo()


@main.command()
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--service", "service_id", default=None, help="Service id (default: by hook).")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
@click.option("--base-url", default="http://localhost:8080", show_default=True)
def check(
    request_file: str, service_id: str | None, output: str, config_file: str | None, base_url: str
) -> None:
    """Run a CDS Hooks request file through the pipeline and print the cards."""
    from injection_cds.protocol import pipeline
    from injection_cds.reference.settings import rule_context_from_config

    try:
        config = load_config(config_file=config_file)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    raw = sys.stdin.buffer.read() if request_file == "-" else Path(request_file).read_bytes()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise click.ClickException(f"{request_file}: not valid JSON ({exc})") from None
    if service_id is None:
        if not isinstance(body, dict):
            raise click.ClickException(f"{request_file}: not a CDS Hooks request")
        service_id = _service_for_hook(body)
    try:
        result = pipeline.call_service(
            service_id, body, ctx=rule_context_from_config(config), base_url=base_url
        )
    except ServiceError as error:
        click.echo(json.dumps(error.operation_outcome(), indent=2), err=True)
        raise SystemExit(1) from None
    if output == "json":
        click.echo(json.dumps(result.response, indent=2, ensure_ascii=False))
    else:
        _print_text(result.cards)


@main.command("rules-table")
def rules_table() -> None:
    """Print the README's rule table (generated from the rule registry)."""
    from injection_cds.web.pages import readme_rule_table

    click.echo(readme_rule_table())


# The commands of the other components, each in its own module.
from injection_cds.cli.audit import audit_command  # noqa: E402  (issue 6)
from injection_cds.cli.generate import generate as generate_command  # noqa: E402  (issue 5)
from injection_cds.cli.report import report as report_command  # noqa: E402  (issue 4)

main.add_command(audit_command)
main.add_command(generate_command)
main.add_command(report_command)
