"""The Spark engine's plan: records -> ingested rows -> encounter groups -> results.

Everything here is a DataFrame transformation; Python runs only inside ``mapInArrow``
(``executor``). A later record with the same ``Type/id`` replaces an earlier one, as in the
local spill store: "later" is the larger ``(file_idx, seq)``.

Gathering a group's resources: from each administration's own references (``follows``)
and its encounter, Spark follows references by resource type and the links to owners
(Conditions, ChargeItems and Procedures to their encounter, Coverages to their patient)
for ``HOPS`` rounds of joins. Each group then carries every resource it reached, the links
of the ones it expanded and its administrations into one row (``groupBy``), and the
executors run the per-encounter function on it.
"""

from __future__ import annotations

from functools import reduce

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from injection_cds.audit.grouping import HOPS
from injection_cds.audit.spark import executor
from injection_cds.audit.store import NO_ENCOUNTER
from injection_cds.core.context import RuleContext


def ingest(records: DataFrame) -> DataFrame:
    """Parse, validate and classify every record on the executors (persisted: read once)."""
    ingested = records.mapInArrow(executor.ingest_batches, executor.INGESTED_DDL)
    return ingested.persist(StorageLevel.MEMORY_AND_DISK)


def _latest(rows: DataFrame, *columns: str) -> DataFrame:
    value = F.max_by(F.struct(*columns), F.struct("file_idx", "seq")).alias("v")
    return rows.groupBy("key").agg(value).select("key", *(f"v.{c}" for c in columns))


def _item(tag: str, **columns: Column) -> Column:
    fields = {
        "tag": F.lit(tag),
        "key": F.col("key"),
        "raw": F.lit(None).cast("binary"),
        "owner": F.lit(None).cast("string"),
        "kind": F.lit(None).cast("string"),
        "depth": F.lit(None).cast("int"),
        "file_idx": F.lit(None).cast("int"),
        "seq": F.lit(None).cast("long"),
    }
    fields.update(columns)
    return F.struct(*(value.alias(name) for name, value in fields.items())).alias("item")


def groups(ingested: DataFrame) -> DataFrame:
    """One row per encounter group: ``grp`` and ``items`` (administrations, resources, links)."""
    administrations = _latest(
        ingested.where(F.col("tag") == executor.ADMINISTRATION), "grp", "raw", "follows"
    )
    all_resources = ingested.where(F.col("tag") == executor.RESOURCE)
    resources = _latest(all_resources, "raw", "follows")
    links = all_resources.select(
        F.col("key").alias("linked"), "file_idx", "seq", F.explode("links").alias("l")
    ).select(
        F.col("l.owner").alias("owner"), F.col("l.kind").alias("kind"), "linked", "file_idx", "seq"
    )

    own_encounter = F.when(~F.col("grp").startswith(NO_ENCOUNTER), F.array(F.col("grp"))).otherwise(
        F.array().cast("array<string>")
    )
    frontier = administrations.select(
        "grp", F.explode(F.array_union(F.col("follows"), own_encounter)).alias("key")
    ).distinct()
    hops = [frontier.withColumn("depth", F.lit(0))]
    for depth in range(1, HOPS + 1):
        by_reference = frontier.join(resources.select("key", "follows"), "key").select(
            "grp", F.explode("follows").alias("key")
        )
        by_link = frontier.join(links, frontier["key"] == links["owner"]).select(
            "grp", F.col("linked").alias("key")
        )
        frontier = by_reference.unionByName(by_link).distinct()
        hops.append(frontier.withColumn("depth", F.lit(depth)))
    # A key reached again at a later hop keeps its first (smallest) depth.
    reached = (
        reduce(DataFrame.unionByName, hops).groupBy("grp", "key").agg(F.min("depth").alias("depth"))
    )

    administration_items = administrations.select("grp", _item("a", raw=F.col("raw")))
    resource_items = reached.join(resources.select("key", "raw"), "key", "left").select(
        "grp", _item("r", raw=F.col("raw"), depth=F.col("depth"))
    )
    expanded = reached.where(F.col("depth") < HOPS).select("grp", "key")
    link_items = expanded.join(links, expanded["key"] == links["owner"]).select(
        "grp",
        _item(
            "l",
            key=F.col("linked"),
            owner=F.col("owner"),
            kind=F.col("kind"),
            file_idx=F.col("file_idx"),
            seq=F.col("seq"),
        ),
    )
    items = administration_items.unionByName(resource_items).unionByName(link_items)
    return items.groupBy("grp").agg(F.collect_list("item").alias("items"))


def results(ingested: DataFrame, ctx: RuleContext) -> DataFrame:
    """The audit of every encounter group (persisted: the outputs read it several times)."""
    audited = groups(ingested).mapInArrow(executor.auditor(ctx), executor.RESULTS_DDL)
    return audited.persist(StorageLevel.MEMORY_AND_DISK)


def findings(results_df: DataFrame) -> DataFrame:
    """One row per finding: the worklist columns, the findings.json record, date of service."""
    flat = results_df.mapInArrow(executor.findings_batches, executor.FINDINGS_DDL)
    return flat.persist(StorageLevel.MEMORY_AND_DISK)
