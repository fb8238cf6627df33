"""``injection-cds check``: a request file through the same pipeline, cards in a terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from injection_cds.cli.main import main
from injection_cds.devtools.synthetic import hook_request
from injection_cds.web.factory import create_app

ROOT = Path(__file__).resolve().parents[1]
Json = dict[str, Any]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("INJECTION_CDS_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.delenv("INJECTION_CDS_CONFIG", raising=False)
    return CliRunner()


def request_file(tmp_path: Path, body: Any, name: str = "request.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def run(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(main, ["check", *args], input=stdin, catch_exceptions=False)


def gappy(service: str = "injection-discharge") -> Json:
    return hook_request(service, seed=11, n_administrations=2, gap_rate=0.9)


def test_text_output_lists_the_cards(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, str(request_file(tmp_path, gappy())))
    assert result.exit_code == 0, result.output
    assert "DOC0" in result.stdout
    assert any(mark in result.stdout for mark in ("CRITICAL", "WARNING", "INFO"))
    assert "Traceback" not in result.output


def test_text_output_renders_markdown_for_a_terminal(runner: CliRunner, tmp_path: Path) -> None:
    """No raw markdown (``**``, escaped ``\\*``, pipe tables) and the server's own base URL."""
    # The billing review's view of the charting example, so the BIL001 table is there too.
    config = tmp_path / "billing-review.toml"
    config.write_text(
        '[cards.audience]\n"org.injectioncds.medicationadministration-sign" = "billing"\n'
    )
    example = ROOT / "fixtures" / "examples" / "charting-ceftriaxone.json"
    result = run(runner, str(example), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "BIL001" in result.stdout and "DOC001" in result.stdout
    assert "**" not in result.stdout
    assert "\\*" not in result.stdout
    assert "| ---" not in result.stdout and "|---" not in result.stdout
    assert "http://127.0.0.1:8080/rules/DOC001" in result.stdout
    assert "localhost" not in result.stdout


def test_json_output_is_the_http_response(runner: CliRunner, tmp_path: Path) -> None:
    body = gappy()
    result = run(
        runner,
        str(request_file(tmp_path, body)),
        "--format",
        "json",
        "--base-url",
        "http://localhost",
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    app = create_app({"instance_dir": str(tmp_path / "instance")})
    try:
        served = app.test_client().post("/cds-services/injection-discharge", json=body)
    finally:
        app.extensions["injection_cds.fhir_client"].session.close()
    assert printed == served.get_json()
    assert printed["cards"]


def test_service_option(runner: CliRunner, tmp_path: Path) -> None:
    path = request_file(tmp_path, gappy("injection-order-sign"))
    result = run(runner, str(path), "--service", "injection-order-sign", "--format", "json")
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout)["cards"], list)


def test_service_that_does_not_answer_the_hook(runner: CliRunner, tmp_path: Path) -> None:
    path = request_file(tmp_path, gappy("injection-order-sign"))
    result = run(runner, str(path), "--service", "injection-discharge")
    assert result.exit_code == 1
    outcome = json.loads(result.stderr)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"] == ["hook"]
    assert result.stdout == ""


def test_unknown_service(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, str(request_file(tmp_path, gappy())), "--service", "nope")
    assert result.exit_code == 1
    assert json.loads(result.stderr)["issue"][0]["code"] == "not-found"


def test_no_advice(runner: CliRunner, tmp_path: Path) -> None:
    body = gappy()
    body["prefetch"]["medicationAdministrations"] = None
    result = run(runner, str(request_file(tmp_path, body)))
    assert result.exit_code == 0
    assert "No advice" in result.stdout


def test_request_on_stdin(runner: CliRunner) -> None:
    result = run(runner, "-", "--format", "json", stdin=json.dumps(gappy()))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cards"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", "not a CDS Hooks request"),
        (json.dumps({"hook": "patient-view", "context": {}}), "no service answers hook"),
    ],
)
def test_bad_request_files(runner: CliRunner, tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = run(runner, str(path))
    assert result.exit_code != 0
    assert says in result.stderr
    assert "Traceback" not in result.output


def test_invalid_fhir_in_the_file(runner: CliRunner, tmp_path: Path) -> None:
    body = gappy()
    body["prefetch"]["encounter"]["status"] = 7
    result = run(runner, str(request_file(tmp_path, body)))
    assert result.exit_code == 1
    outcome = json.loads(result.stderr)
    assert outcome["issue"][0]["code"] == "structure"
    assert "prefetch.encounter" in outcome["issue"][0]["diagnostics"]


def test_missing_file_and_directory(runner: CliRunner, tmp_path: Path) -> None:
    for target in (tmp_path / "missing.json", tmp_path):
        result = run(runner, str(target))
        assert result.exit_code == 2
        assert "Traceback" not in result.output
        assert "Error" in result.stderr


def test_bad_configuration(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("log_level = = 1\n", encoding="utf-8")
    result = run(runner, str(request_file(tmp_path, gappy())), "--config", str(config))
    assert result.exit_code == 1
    assert "configuration:" in result.stderr
    assert "not valid TOML" in result.stderr


def test_console_script_reports_without_a_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "injection-cds"
    assert script.exists()
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    completed = subprocess.run(
        [str(script), "check", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode != 0
    assert "not valid JSON" in completed.stderr
    assert "Traceback" not in completed.stderr
    good = request_file(tmp_path, gappy())
    completed = subprocess.run(
        [str(script), "check", str(good), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["cards"]
