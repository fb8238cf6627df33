"""An administration code's claim line, built the same way for every family."""

from __future__ import annotations

from injection_cds.core.billing.classify import diagnoses_of
from injection_cds.core.billing.lines import ChargeLine, system_of
from injection_cds.core.facts import Administration, VisitFacts
from injection_cds.reference.catalog import CatalogEntry


def named_entry(administration: Administration) -> CatalogEntry:
    """A catalog entry that only names the drug (no code): how a push is told apart."""
    return CatalogEntry(name=administration.drug_name, hcpcs=None, amount=None, unit=None)


def admin_line(
    code: str, description: str, administration: Administration, visit: VisitFacts
) -> ChargeLine:
    """One unit of an administration code for one administration, with its diagnoses."""
    return ChargeLine(
        code=code,
        system=system_of(code),
        units=1,
        description=description,
        diagnoses=diagnoses_of(administration, visit),
        services=(administration.reference,),
    )


def with_note(line: ChargeLine, note: str) -> ChargeLine:
    """The same line with a note for the coder."""
    return ChargeLine(**{**line.__dict__, "note": note})
