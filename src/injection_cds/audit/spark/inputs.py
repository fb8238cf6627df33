"""The Spark engine's inputs: files on any Hadoop path, or DataFrames a notebook already has.

Files are listed on the driver through Hadoop's FileSystem (local, ``hdfs://``, ``s3a://``,
``abfss://``: whatever the cluster is configured for), in the local reader's order. Plain
NDJSON is read by Spark's text source, split across executors; each line's number in its
file is rebuilt from the split it came from (``_metadata.file_block_start``) and its place
in that split. Gzip files and JSON documents (Bundles) cannot be split: an executor reads
each whole with the local reader's own code, so truncated gzip and Bundle references come
out exactly as locally.

One known difference: Spark's text source decodes a line that is not UTF-8 with
replacement characters, so such a line in a plain .ndjson file is parsed rather than
skipped as invalid JSON (in a .gz file it is skipped, as locally).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from pathlib import PurePosixPath
from typing import Any

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from injection_cds.audit.reader import JSON_SUFFIXES, NDJSON_SUFFIXES, Skipped
from injection_cds.audit.spark import executor


@dataclass(frozen=True)
class InputFile:
    """One file to read: its place in the reading order, its label (as locally), its URI."""

    index: int
    label: str
    uri: str
    name: str


def _label(given: str, relative: str = "") -> str:
    if "://" in given or given.startswith("file:"):
        return given.rstrip("/") + ("/" + relative if relative else "")
    path = PurePosixPath(given)
    return str(path / relative) if relative else str(path)


def discover(spark: SparkSession, inputs: list[str]) -> tuple[list[InputFile], list[Skipped]]:
    """The input files (directories searched for FHIR files, sorted as locally) and misses."""
    jvm: Any = spark.sparkContext._jvm  # noqa: SLF001 - Hadoop's FileSystem has no Python API
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # noqa: SLF001
    files: list[InputFile] = []
    missing: list[Skipped] = []
    for given in inputs:
        path = jvm.org.apache.hadoop.fs.Path(given)
        fs = path.getFileSystem(conf)
        if not fs.exists(path):
            missing.append(Skipped(_label(given), "-", "not a readable file"))
            continue
        if not fs.getFileStatus(path).isDirectory():
            uri = fs.makeQualified(path).toString()
            files.append(InputFile(len(files), _label(given), uri, path.getName()))
            continue
        root = fs.makeQualified(path).toString().rstrip("/")
        found: list[tuple[tuple[str, ...], str, str]] = []
        listing = fs.listFiles(path, True)
        while listing.hasNext():
            child = listing.next().getPath()
            name = child.getName()
            if name.lower().endswith(NDJSON_SUFFIXES + JSON_SUFFIXES):
                relative = child.toString()[len(root) :].lstrip("/")
                found.append((tuple(relative.split("/")), relative, child.toString()))
        for _, relative, uri in sorted(found):
            files.append(
                InputFile(len(files), _label(given, relative), uri, uri.rsplit("/", 1)[-1])
            )
    return files, missing


def read_files(spark: SparkSession, files: list[InputFile]) -> DataFrame:
    """Record rows (``executor.RECORDS``) of every file."""
    parts: list[DataFrame] = []
    split = [f for f in files if not executor.is_read_whole(f.name)]
    whole = [f for f in files if executor.is_read_whole(f.name)]
    if split:
        parts.append(_text_records(spark, split))
    if whole:
        contents = [
            spark.read.format("binaryFile")
            .load(f.uri)
            .select(
                F.lit(f.index).cast("int").alias("file_idx"),
                F.lit(f.label).alias("file"),
                F.lit(f.name).alias("name"),
                "content",
            )
            for f in whole
        ]
        parts.append(
            reduce(DataFrame.unionByName, contents).mapInArrow(
                executor.read_whole_files, executor.RECORDS_DDL
            )
        )
    if not parts:
        return spark.createDataFrame([], executor.RECORDS_DDL)
    return reduce(DataFrame.unionByName, parts)


def _text_records(spark: SparkSession, files: list[InputFile]) -> DataFrame:
    scans = [
        spark.read.text(f.uri).select(
            F.lit(f.index).cast("int").alias("file_idx"),
            F.lit(f.label).alias("file"),
            F.col("_metadata.file_block_start").alias("block"),
            "value",
        )
        for f in files
    ]
    # Rows of one split are contiguous and in order within their partition, so a line's
    # number is the lines of the file's earlier splits plus its place in its own split.
    lines = reduce(DataFrame.unionByName, scans).withColumn("rid", F.monotonically_increasing_id())
    blocks = lines.groupBy("file_idx", "block").agg(
        F.min("rid").alias("first"), F.count(F.lit(1)).alias("n")
    )
    earlier = (
        Window.partitionBy("file_idx").orderBy("block").rowsBetween(Window.unboundedPreceding, -1)
    )
    blocks = blocks.withColumn("before", F.coalesce(F.sum("n").over(earlier), F.lit(0)))
    seq = F.col("before") + F.col("rid") - F.col("first") + 1
    return lines.join(F.broadcast(blocks), ["file_idx", "block"]).select(
        "file_idx",
        "file",
        seq.alias("seq"),
        seq.cast("string").alias("line"),
        F.col("value").cast("binary").alias("raw"),
        F.lit(None).cast("string").alias("reason"),
    )


def records_from_lines(lines: DataFrame) -> DataFrame:
    """Record rows from a DataFrame of NDJSON lines.

    Columns: ``value`` (one JSON resource), and optionally ``file`` and ``line`` (for the
    skipped-record report; without them "(dataframe)" and the row's place). A later row
    replaces an earlier one with the same ``Type/id``.
    """
    columns = set(lines.columns)
    file = F.col("file").cast("string") if "file" in columns else F.lit("(dataframe)")
    line = F.col("line").cast("string") if "line" in columns else F.lit(None).cast("string")
    rows = lines.select(
        file.alias("file"),
        F.monotonically_increasing_id().alias("seq"),
        line.alias("line"),
        F.col("value").cast("binary").alias("raw"),
    )
    return rows.select(
        F.lit(0).cast("int").alias("file_idx"),
        "file",
        "seq",
        F.coalesce("line", (F.col("seq") + 1).cast("string")).alias("line"),
        "raw",
        F.lit(None).cast("string").alias("reason"),
    )


def records_from_resources(resources: Mapping[str, DataFrame]) -> DataFrame:
    """Record rows from one DataFrame of FHIR JSON strings per resource type.

    Each DataFrame's first column holds the JSON; the resource type names the "file".
    """
    parts = [
        frame.select(
            F.lit(kind).alias("file"), F.col(frame.columns[0]).cast("string").alias("value")
        )
        for kind, frame in sorted(resources.items())
    ]
    if not parts:
        raise ValueError("no resource DataFrames given")
    return records_from_lines(reduce(DataFrame.unionByName, parts))
