"""A wheel built from the repository serves on its own: package data (services.json, the
JSON Schemas, the drug reference, templates, migrations) must be inside it.

The wheel goes into a fresh virtual environment whose only other path is the dependencies'
site-packages (added by a ``.pth`` line, so the editable install's finder is not loaded),
started from a directory outside the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
import requests
from server_process import stop, wait_until_healthy
from test_e2e import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "examples" / "charting-ceftriaxone.json"


def _build_wheel(out: Path) -> Path:
    # Built from a copy of what the wheel is made of: setuptools writes build/ beside the
    # sources, and that must not land in the working tree.
    source = out.parent / "source"
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        timeout=300,
        capture_output=True,
    )
    (wheel,) = out.glob("injection_cds-*.whl")
    return wheel


def _fresh_env(root: Path, wheel: Path) -> Path:
    venv.EnvBuilder(with_pip=False).create(root)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The dependencies, not the project: a plain path line, so no .pth inside is processed.
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    return root / "bin"


def test_wheel_installs_and_serves(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path / "dist")
    bin_dir = _fresh_env(tmp_path / "venv", wheel)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INJECTION_CDS_", "PYTHON"))}
    env["INJECTION_CDS_INSTANCE_DIR"] = str(work / "instance")
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import injection_cds; print(injection_cds.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=work,
        env=env,
    ).stdout.strip()
    assert where.startswith(str(tmp_path / "venv")), where

    port = free_port()
    log = (work / "server.log").open("wb")
    process = subprocess.Popen(
        [str(bin_dir / "injection-cds"), "serve", "--port", str(port), "--workers", "1"],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base, work / "server.log")
        discovery = requests.get(f"{base}/cds-services", timeout=10)
        assert discovery.status_code == 200
        ids = {s["id"] for s in discovery.json()["services"]}
        assert {"injection-charting", "injection-discharge", "injection-order-sign"} <= ids
        answer = requests.post(
            f"{base}/cds-services/injection-charting",
            json=json.loads(EXAMPLE.read_text("utf-8")),
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        codes = {c["source"]["topic"]["code"] for c in answer.json()["cards"]}
        assert "DOC001" in codes
        page = requests.get(f"{base}/rules/DOC001", headers={"Accept": "text/html"}, timeout=10)
        assert page.status_code == 200 and "DOC001" in page.text
    finally:
        try:
            stop(process)
        finally:
            log.close()
