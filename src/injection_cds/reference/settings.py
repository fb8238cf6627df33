"""The rule context built once from the configuration (payer profiles, reference data)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from injection_cds.config import ConfigError
from injection_cds.core.context import RuleContext
from injection_cds.reference.billing_config import context_from_config
from injection_cds.reference.drugref import DrugQuarter, read_quarter


def rule_context_from_config(config: Mapping[str, Any]) -> RuleContext:
    """The immutable context every rule reads, from the ``billing`` section.

    A reference file the section names that cannot be read is a configuration error, said
    at start-up, not a failure on the first request.
    """
    try:
        ctx = context_from_config(config.get("billing") or {})
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"billing: {exc}") from None
    loaded_dir = loaded_quarters_dir(config)
    try:
        quarters = read_loaded_quarters(loaded_dir)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"reference data in {loaded_dir}: {exc}") from None
    if not quarters:
        return ctx
    return dataclasses.replace(ctx, catalog=ctx.catalog.with_quarters(quarters))


def loaded_quarters_dir(config: Mapping[str, Any]) -> Path:
    """Where ``injection-cds reference load`` puts quarters: ``<instance_dir>/reference``."""
    return Path(str(config.get("instance_dir") or "instance")) / "reference"


def read_loaded_quarters(folder: Path) -> tuple[DrugQuarter, ...]:
    """Every quarter loaded into the folder (``cms-<quarter>.json.gz``), oldest first."""
    if not folder.is_dir():
        return ()
    return tuple(read_quarter(path.read_bytes()) for path in sorted(folder.glob("cms-*.json.gz")))
