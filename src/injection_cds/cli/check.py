"""``injection-cds check``: a CDS Hooks request file through the pipeline, cards on the terminal.

Cards are rendered with rich: the markdown detail as a terminal reads it (no raw ``**`` or
pipe tables), one panel per card, coloured by indicator. ``--format json`` prints the exact
response body the service would send.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console, Group
from rich.markdown import Markdown
from rich.panel import Panel
from rich.text import Text

from injection_cds.cli.serve import local_base_url
from injection_cds.config import ConfigError, load_config
from injection_cds.protocol.errors import ServiceError
from injection_cds.protocol.services import load_services

_INDICATOR_MARK = {"critical": "✖ CRITICAL", "warning": "▲ WARNING", "info": "● INFO"}
_INDICATOR_STYLE = {"critical": "bold red", "warning": "bold yellow", "info": "bold cyan"}


def _service_for_hook(body: dict[str, Any]) -> str:
    hook = body.get("hook")
    for service in load_services().values():
        if service.hook == hook:
            return service.id
    raise click.ClickException(f"no service answers hook {hook!r}; give --service")


def _print_text(cards: list[dict[str, Any]], console: Console) -> None:
    if not cards:
        console.print("No advice: the documentation is complete.")
        return
    for card in cards:
        indicator = card["indicator"]
        style = _INDICATOR_STYLE.get(indicator, "bold")
        code = card["source"]["topic"]["code"]
        title = Text(f"{_INDICATOR_MARK.get(indicator, indicator)}  {code}  ", style=style)
        title.append(card["summary"], style="bold")
        body: list[Any] = [Markdown(card.get("detail", ""))]
        for link in card.get("links", []):
            body.append(Text(f"{link.get('label', '')}: {link.get('url', '')}", style="dim"))
        if "links" not in card:
            body.append(Text(card["source"].get("url", ""), style="dim"))
        console.print(Panel(Group(*body), title=title, title_align="left", border_style=style))


@click.command()
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--service", "service_id", default=None, help="Service id (default: by hook).")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
@click.option(
    "--base-url",
    default=None,
    help="Base of the card links (default: public_base_url, else the local server's URL).",
)
def check(
    request_file: str,
    service_id: str | None,
    output: str,
    config_file: str | None,
    base_url: str | None,
) -> None:
    """Run a CDS Hooks request file through the pipeline and print the cards."""
    from injection_cds.protocol import pipeline
    from injection_cds.protocol.audience import policy_from_config
    from injection_cds.reference.settings import rule_context_from_config

    try:
        config = load_config(config_file=config_file)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    base_url = base_url or config.get("public_base_url") or local_base_url()
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
            service_id,
            body,
            ctx=rule_context_from_config(config),
            base_url=base_url,
            policy=policy_from_config(config),
            strict=config["fhir"]["strict"],
        )
    except ServiceError as error:
        click.echo(json.dumps(error.operation_outcome(), indent=2), err=True)
        raise SystemExit(1) from None
    if output == "json":
        click.echo(json.dumps(result.response, indent=2, ensure_ascii=False))
    else:
        _print_text(result.cards, Console())
