"""The batch audit on Spark (issue 14): the same findings as the local engine, record for
record, in Spark local mode. Skips when PySpark (the spark extra) or Java is absent.

One SparkSession (local[2]) serves the whole module; each dataset is audited once by each
engine and the comparisons share those runs.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from test_audit import (
    EXTERNAL,
    IM,
    administration,
    small_export,
    urn_bundle,
    write_ndjson,
)

from injection_cds.audit import run_audit
from injection_cds.cli.main import main as cli_main
from injection_cds.devtools.synthetic import write_bulk_ndjson

pyspark = pytest.importorskip("pyspark", reason="needs the spark extra")
if shutil.which("java") is None:
    pytest.skip("needs Java 17+", allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402

from injection_cds.audit.spark import (  # noqa: E402
    findings_from_lines,
    findings_from_resources,
    run_spark_audit,
    session,
)
from injection_cds.audit.spark.run import GROUPS_PER_STREAMED_PARTITION  # noqa: E402

pytestmark = pytest.mark.spark
SYNTHETIC_ADMINISTRATIONS = 20_000
VOLATILE = ("generatedAt", "seconds", "workers", "engine", "master", "inputs")


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    spark = session("local[2]", spark_sql_shuffle_partitions="4", spark_ui_enabled="false")
    yield spark
    spark.stop()


def both(tmp: Path, spark: SparkSession, *inputs: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(local findings.json, spark findings.json) of the same inputs."""
    run_audit(list(inputs), tmp / "local", workers=2, progress=False, stderr=io.StringIO())
    stderr = io.StringIO()
    run_spark_audit([str(p) for p in inputs], str(tmp / "spark"), spark=spark, stderr=stderr)
    local = json.loads((tmp / "local" / "findings.json").read_text("utf-8"))
    distributed = json.loads((tmp / "spark" / "findings.json").read_text("utf-8"))
    return local, distributed


def assert_same(tmp: Path, local: dict[str, Any], distributed: dict[str, Any]) -> None:
    assert distributed["findings"] == local["findings"]  # record for record, in order
    for key in local:
        if key not in VOLATILE and key != "skipped":
            assert distributed[key] == local[key], key
    assert Counter(map(orjson.dumps, distributed["skipped"])) == Counter(
        map(orjson.dumps, local["skipped"])
    )
    worklist = (tmp / "spark" / "worklist.csv").read_bytes()
    assert worklist == (tmp / "local" / "worklist.csv").read_bytes()
    assert distributed["engine"] == "spark"


@pytest.fixture(scope="module")
def external(tmp_path_factory: pytest.TempPathFactory, spark: SparkSession) -> Any:
    if not EXTERNAL.is_dir():
        pytest.skip("../shared/data/external is absent")
    tmp = tmp_path_factory.mktemp("external")
    return tmp, *both(tmp, spark, EXTERNAL)


def test_external_data_same_findings_as_local(external: Any) -> None:
    tmp, local, distributed = external
    assert local["summary"]["administrations"] > 1000  # the MIMIC demo is in there
    assert local["findings"]
    assert_same(tmp, local, distributed)


def test_parquet_partitioned_by_date_of_service(external: Any, spark: SparkSession) -> None:
    tmp, local, _ = external
    findings = spark.read.parquet(str(tmp / "spark" / "findings.parquet"))
    assert findings.count() == len(local["findings"])
    worklist = spark.read.parquet(str(tmp / "spark" / "worklist.parquet"))
    assert worklist.count() == len(local["findings"])
    dates = {p.name for p in (tmp / "spark" / "findings.parquet").iterdir() if p.is_dir()}
    assert dates and all(d.startswith("date_of_service=") for d in dates)
    # a finding on an administration lands under that administration's date
    row = findings.where("time IS NOT NULL").select("time", "date_of_service").first()
    assert row is not None and str(row["date_of_service"]) == row["time"][:10]


def test_bad_records_bundles_and_cli_as_locally(tmp_path: Path, spark: SparkSession) -> None:
    src = small_export(tmp_path)
    # plain NDJSON too (split by Spark), with a bad line, a blank line and a later version
    write_ndjson(
        src / "More.ndjson",
        [administration("a5", "e1", route=IM), b"[1, 2", b"   ", administration("a1", "e1")],
    )
    (src / "broken.json").write_text("{")
    truncated = src / "Truncated.ndjson.gz"
    truncated.write_bytes(gzip.compress(orjson.dumps(administration("z", "e1")) + b"\n")[:-10])
    (src / "bundle.json").write_text(json.dumps(urn_bundle()))
    missing = tmp_path / "missing.ndjson"

    run_audit([src, missing], tmp_path / "local", workers=2, progress=False, stderr=io.StringIO())
    outcome = CliRunner().invoke(
        cli_main,
        ["audit", str(src), str(missing), "--out", str(tmp_path / "spark"), "--engine", "spark"],
    )
    assert outcome.exit_code == 0, outcome.output
    local = json.loads((tmp_path / "local" / "findings.json").read_text("utf-8"))
    count = local["summary"]["administrations"]
    assert count >= 6
    assert f"audited {count} administrations in 3 encounters" in outcome.output
    distributed = json.loads((tmp_path / "spark" / "findings.json").read_text("utf-8"))
    assert_same(tmp_path, local, distributed)
    skipped = {(Path(s["file"]).name, s["line"], s["reason"][:12]) for s in distributed["skipped"]}
    assert ("MedicationAdministration.ndjson.gz", "3", "invalid JSON") in skipped
    assert ("More.ndjson", "2", "invalid JSON") in skipped
    assert ("broken.json", "1", "invalid JSON") in skipped
    assert ("missing.ndjson", "-", "not a readab") in skipped
    assert any(name == "Truncated.ndjson.gz" for name, _, _ in skipped)
    a1 = [f for f in distributed["findings"] if f["resource"] == "MedicationAdministration/a1"]
    assert a1 and all(f["encounter"] == "Encounter/e1" for f in a1)
    assert (tmp_path / "spark" / "report.html").exists()
    assert (tmp_path / "spark" / "worklist.parquet").is_dir()


@pytest.fixture(scope="module")
def synthetic_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "export"
    counts = write_bulk_ndjson(out, SYNTHETIC_ADMINISTRATIONS, seed=14)
    assert counts["MedicationAdministration"] == SYNTHETIC_ADMINISTRATIONS
    return out


def test_synthetic_export_same_findings_as_local(
    synthetic_export: Path, tmp_path: Path, spark: SparkSession
) -> None:
    local, distributed = both(tmp_path, spark, synthetic_export)
    assert distributed["summary"]["administrations"] == SYNTHETIC_ADMINISTRATIONS
    assert len(local["findings"]) > 1000
    # The files stream to the driver in several range partitions, and still come in order.
    assert distributed["summary"]["encounters"] > 2 * GROUPS_PER_STREAMED_PARTITION
    assert_same(tmp_path, local, distributed)


def _record_counter(rows: Any) -> Counter[tuple[Any, ...]]:
    return Counter(
        (r["encounter"], r["resource"], r["rule"], r["element"], r["message"]) for r in rows
    )


def test_library_entry_points(tmp_path: Path, spark: SparkSession) -> None:
    src = small_export(tmp_path)
    run_audit([src], tmp_path / "local", workers=1, progress=False, stderr=io.StringIO())
    local = json.loads((tmp_path / "local" / "findings.json").read_text("utf-8"))
    expected = _record_counter(local["findings"])
    assert expected

    plain = tmp_path / "plain"
    plain.mkdir()
    for path in src.iterdir():
        text = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        (plain / path.name.removesuffix(".gz")).write_bytes(text)
    lines = spark.read.text(str(plain))
    from_lines = findings_from_lines(lines).withColumnRenamed("encounter", "encounter_id")
    rows = from_lines.withColumnRenamed("encounter_reference", "encounter").collect()
    assert _record_counter(rows) == expected

    frames = {
        path.name.split(".")[0]: spark.read.text(str(path)) for path in sorted(plain.iterdir())
    }
    by_type = findings_from_resources(frames).drop("encounter")
    rows = by_type.withColumnRenamed("encounter_reference", "encounter").collect()
    assert _record_counter(rows) == expected
    assert {r["date_of_service"] for r in rows} == {"2026-03-02"}


def test_no_files_leaves_parquet_and_the_report(tmp_path: Path, spark: SparkSession) -> None:
    src = small_export(tmp_path)
    run_audit([src], tmp_path / "local", workers=1, progress=False, stderr=io.StringIO())
    local = json.loads((tmp_path / "local" / "findings.json").read_text("utf-8"))
    out = tmp_path / "spark"
    outcome = CliRunner().invoke(
        cli_main, ["audit", str(src), "--out", str(out), "--engine", "spark", "--no-files"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert f"{out}/findings.parquet" in outcome.output and "worklist.csv" not in outcome.output
    assert not (out / "worklist.csv").exists() and not (out / "findings.json").exists()
    html = (out / "report.html").read_text("utf-8")
    assert f'data-metric="findings" data-value="{local["summary"]["findings"]}"' in html
    rows = spark.read.parquet(str(out / "findings.parquet")).collect()
    assert _record_counter(rows) == _record_counter(local["findings"])
