"""``injection-cds audit --engine spark``: the batch audit as a Spark job, end to end.

The driver lists the inputs, builds the plan (``plan``), and collects only aggregates: the
resource counts by type, the first skipped records, and each partition's ``Totals``. The
executors write the worklist and the findings as Parquet, partitioned by date of service.
``worklist.csv`` and ``findings.json`` — the local engine's files, byte for byte the same
rows in the same order — are streamed to the driver one partition at a time and written
there; ``report.html`` is built from the merged totals by the local engine's code.
"""

from __future__ import annotations

import math
import os
import pickle
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from injection_cds.audit.aggregate import MAX_SKIPPED_KEPT, Totals
from injection_cds.audit.outputs import FINDINGS_RECORD, WORKLIST_COLUMNS, Outputs, findings_head
from injection_cds.audit.reader import Skipped
from injection_cds.audit.report import write_report
from injection_cds.audit.run import MAX_SKIPPED_PRINTED, AuditResult
from injection_cds.audit.spark import executor, plan
from injection_cds.audit.spark.inputs import discover, read_files
from injection_cds.audit.worker import HOOK
from injection_cds.core.context import RuleContext

# Encounter groups per partition streamed to the driver: a few MB of results each, so the
# driver's heap holds two of them whatever the size of the export.
GROUPS_PER_STREAMED_PARTITION = 5_000


def session(master: str | None = None, **conf: str) -> SparkSession:
    """The active SparkSession (notebook, Databricks job, spark-submit), else one on ``master``.

    Without an active session and without ``master``: ``local[*]``.
    ``conf``: Spark settings, ``spark_sql_shuffle_partitions="4"`` for
    ``spark.sql.shuffle.partitions``.
    """
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName("injection-cds audit")
    if master:
        builder = builder.master(master)
    launched_by_spark_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    local = master.startswith("local") if master else not launched_by_spark_submit
    if local:
        # Local Python workers run this interpreter (its virtualenv has the package), and
        # one machine needs a few shuffle partitions per core, not the cluster default 200.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        cores = master[len("local[") : -1] if master and master.startswith("local[") else ""
        partitions = 4 * (int(cores) if cores.isdigit() else (os.cpu_count() or 1))
        builder = builder.config("spark.sql.shuffle.partitions", str(partitions))
        builder = builder.config("spark.ui.showConsoleProgress", "false")
    # Let adaptive execution merge the small partitions of the persisted results too.
    builder = builder.config("spark.sql.optimizer.canChangeCachedPlanOutputPartitioning", "true")
    for key, value in conf.items():
        builder = builder.config(key.replace("_", "."), value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


class _Skips:
    def __init__(self, totals: Totals, stream: IO[str]) -> None:
        self.totals, self.stream = totals, stream

    def __call__(self, record: Skipped) -> None:
        self.totals.skip(record)
        if self.totals.skipped_count <= MAX_SKIPPED_PRINTED:
            self.stream.write(f"skipped {record.file}:{record.line}: {record.reason}\n")
        elif self.totals.skipped_count == MAX_SKIPPED_PRINTED + 1:
            self.stream.write("more skipped records: see findings.json\n")


def run_spark_audit(
    inputs: list[str],
    out: str,
    *,
    ctx: RuleContext | None = None,
    master: str | None = None,
    spark: SparkSession | None = None,
    stderr: IO[str] | None = None,
    files: bool = True,
) -> AuditResult:
    """Audit every administration in ``inputs`` on Spark; write the outputs under ``out``.

    ``files=False``: no worklist.csv and findings.json (they pass through the driver; for
    runs too large for that, the Parquet outputs hold the same rows).
    """
    stream = stderr if stderr is not None else sys.stderr
    ctx = ctx if ctx is not None else RuleContext()
    spark = spark if spark is not None else session(master)
    started = time.perf_counter()
    totals = Totals()
    skip = _Skips(totals, stream)
    listed, missing = discover(spark, inputs)
    totals.files = len(listed) + len(missing)
    for record in missing:
        skip(record)
    ingested = plan.ingest(read_files(spark, listed))
    cached: list[DataFrame] = [ingested]
    try:
        _read_aggregates(ingested, totals, skip)
        seconds = {"read": time.perf_counter() - started}
        results = plan.results(ingested, ctx)
        cached.append(results)
        errors: list[tuple[str, Skipped]] = []
        for row in results.mapInArrow(executor.totals_batches, executor.TOTALS_DDL).collect():
            partial, partial_errors = pickle.loads(row["totals"])
            totals.merge(partial)
            errors.extend(partial_errors)
        for _, record in sorted(errors):
            skip(record)
        findings = plan.findings(results)
        cached.append(findings)
        _write_parquet(findings, out)
        seconds["total"] = time.perf_counter() - started
        seconds["audit"] = seconds["total"] - seconds["read"]
        workers = spark.sparkContext.defaultParallelism
        meta = {
            "generatedAt": datetime.now(UTC).isoformat(timespec="seconds"),
            "hook": HOOK,
            "engine": "spark",
            "master": spark.sparkContext.master,
            "inputs": list(inputs),
            "workers": workers,
            "seconds": {k: round(v, 3) for k, v in seconds.items()},
            "definitions": {
                "billableCandidate": "completed, and given by injection (the route says "
                "so or, when the route is missing or uncoded, the drug does)",
                "documentationCompleteRate": "billable-candidate administrations with no "
                "documentation finding / billable-candidate administrations",
            },
        }
        out_dir = _write_files(spark, results, totals, meta, out, files)
    finally:
        for frame in cached:
            frame.unpersist()
    result = AuditResult(totals, out_dir, workers, seconds)
    result.seconds["total"] = time.perf_counter() - started
    return result


def _read_aggregates(ingested: DataFrame, totals: Totals, skip: _Skips) -> None:
    count = 0
    for row in ingested.groupBy("tag", "rtype").count().collect():
        if row["tag"] == executor.SKIP:
            count += row["count"]
        else:
            totals.resources_by_type[row["rtype"]] += row["count"]
    skipped = ingested.where(F.col("tag") == executor.SKIP)
    first = skipped.orderBy("file_idx", "seq").limit(MAX_SKIPPED_KEPT).collect() if count else []
    for row in first:
        skip(Skipped(row["file"], row["line"], row["reason"]))
    totals.skipped_count += count - len(first)
    totals.records_read = sum(totals.resources_by_type.values()) + totals.skipped_count


def _write_parquet(findings: DataFrame, out: str) -> None:
    """worklist.parquet and findings.parquet, partitioned by date of service."""
    base = out.rstrip("/")
    worklist = findings.select(*WORKLIST_COLUMNS, "date_of_service")
    worklist.write.mode("overwrite").partitionBy("date_of_service").parquet(
        f"{base}/worklist.parquet"
    )
    columns = {
        "encounter": F.col("encounter_reference"),
        **{name: F.nullif(F.col(name), F.lit("")) for name in ("drug", "time")},  # blank: null
    }
    records = findings.select(
        *(columns.get(name, F.col(name)).alias(name) for name in FINDINGS_RECORD),
        "date_of_service",
    )
    records.write.mode("overwrite").partitionBy("date_of_service").parquet(
        f"{base}/findings.parquet"
    )


def _is_local(out: str) -> bool:
    return "://" not in out and not out.startswith("file:")


def _write_files(
    spark: SparkSession,
    results: DataFrame,
    totals: Totals,
    meta: dict[str, Any],
    out: str,
    files: bool,
) -> Path:
    """worklist.csv, findings.json and report.html; copied to ``out`` if it is not local."""
    if _is_local(out):
        out_dir = Path(out)
        _write_local(results, totals, meta, out_dir, files)
        return out_dir
    with tempfile.TemporaryDirectory() as staging:
        local = Path(staging)
        _write_local(results, totals, meta, local, files)
        jvm: Any = spark.sparkContext._jvm  # noqa: SLF001 - Hadoop's FileSystem API
        conf = spark.sparkContext._jsc.hadoopConfiguration()  # noqa: SLF001
        target = jvm.org.apache.hadoop.fs.Path(out)
        fs = target.getFileSystem(conf)
        for name in ("worklist.csv", "findings.json", "report.html") if files else ("report.html",):
            source = jvm.org.apache.hadoop.fs.Path(str(local / name))
            fs.copyFromLocalFile(False, True, source, jvm.org.apache.hadoop.fs.Path(target, name))
    return Path(out)


def _ordered_in_bounded_partitions(results: DataFrame) -> DataFrame:
    """The audited groups in ``grp`` order, cut into partitions of a bounded size.

    ``toLocalIterator`` holds a whole partition (two with prefetch) in the driver's heap, so
    one partition for the whole audit ran the driver out of memory at 100,000
    administrations. Range partitions come back in order; each costs one short job.
    """
    audited = results.where(F.col("error").isNull())
    partitions = max(1, math.ceil(audited.count() / GROUPS_PER_STREAMED_PARTITION))
    return audited.repartitionByRange(partitions, "grp").sortWithinPartitions("grp")


def _write_local(
    results: DataFrame, totals: Totals, meta: dict[str, Any], out_dir: Path, files: bool
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    if not files:
        write_report(findings_head(totals, meta), out_dir / "report.html")
        return
    with tempfile.TemporaryDirectory() as scratch:
        outputs = Outputs(out_dir, Path(scratch))
        try:
            for row in _ordered_in_bounded_partitions(results).toLocalIterator(
                prefetchPartitions=True
            ):
                outputs.add(executor.group_result(row))
            head = outputs.finish(totals, meta)
        except BaseException:
            outputs.abort()
            raise
    write_report(head, out_dir / "report.html")
