"""The ``injection-cds`` command: one module per subcommand, gathered here."""

from __future__ import annotations

import click

from injection_cds.cli.audit import audit_command
from injection_cds.cli.check import check
from injection_cds.cli.generate import generate as generate_command
from injection_cds.cli.reference import reference as reference_command
from injection_cds.cli.report import report as report_command
from injection_cds.cli.serve import serve


@click.group()
@click.version_option(package_name="injection-cds")
def main() -> None:
    """injection-cds: CDS Hooks checks of injection documentation and billing."""


@click.command("rules-table")
def rules_table() -> None:
    """Print the README's rule table (generated from the rule registry)."""
    from injection_cds.web.pages import readme_rule_table

    click.echo(readme_rule_table())


for command in (
    serve,
    check,
    rules_table,
    audit_command,
    generate_command,
    report_command,
    reference_command,
):
    main.add_command(command)
