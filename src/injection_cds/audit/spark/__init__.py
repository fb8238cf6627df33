"""The batch audit on Apache Spark (``pip install injection-cds[spark]``).

For notebooks and jobs, two entry points return the findings DataFrame (one row per
finding: the worklist's columns, the findings.json record, ``date_of_service``):

    from injection_cds.audit.spark import findings_from_lines, findings_from_resources
    findings = findings_from_lines(spark.read.text("abfss://.../export/*.ndjson"))
    findings = findings_from_resources({"MedicationAdministration": adm_df, ...})

Both run the same per-encounter function as the local engine and the service. For files,
with Parquet, CSV, JSON and report.html: ``run_spark_audit`` (``injection-cds audit
--engine spark``).
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame

from injection_cds.audit.spark import plan
from injection_cds.audit.spark.inputs import records_from_lines, records_from_resources
from injection_cds.audit.spark.run import run_spark_audit, session
from injection_cds.core.context import RuleContext

__all__ = ["findings_from_lines", "findings_from_resources", "run_spark_audit", "session"]


def findings_from_lines(lines: DataFrame, ctx: RuleContext | None = None) -> DataFrame:
    """The findings of a DataFrame of NDJSON lines (column ``value``; ``file``, ``line``).

    Records that are not valid FHIR are skipped (the CLI reports them). The parsed records
    and the audit results are persisted (memory and disk) until the session ends.
    """
    return _findings(records_from_lines(lines), ctx)


def findings_from_resources(
    resources: Mapping[str, DataFrame], ctx: RuleContext | None = None
) -> DataFrame:
    """The findings of one DataFrame of FHIR JSON strings per resource type."""
    return _findings(records_from_resources(resources), ctx)


def _findings(records: DataFrame, ctx: RuleContext | None) -> DataFrame:
    results = plan.results(plan.ingest(records), ctx if ctx is not None else RuleContext())
    return plan.findings(results)
