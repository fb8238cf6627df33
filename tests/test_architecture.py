"""The layout's contracts: every module imports on its own, and the core does no I/O.

Each check runs in a fresh interpreter: an import cycle or an import side effect that a
warm test process hides (because something else imported the other half first) shows up
only there.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "injection_cds"
# Flask's sansio contract, applied to the core: no web framework, HTTP client, database or server.
FORBIDDEN_IN_CORE = ("flask", "werkzeug", "requests", "sqlalchemy", "alembic", "gunicorn")


def _modules() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(SRC).with_suffix("")
        if "migrations" in relative.parts:
            continue  # Alembic's scripts run inside Alembic, not as imports
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        found.append(".".join(parts))
    return found


def _import_alone(module: str) -> tuple[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return module, result.stderr.strip().splitlines()[-1] if result.returncode else ""


def test_every_module_imports_on_its_own() -> None:
    modules = _modules()
    assert "injection_cds.core.units" in modules
    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = {m: err for m, err in pool.map(_import_alone, modules) if err}
    assert not failures, failures


def test_the_package_has_an_init() -> None:
    """Without it an implicit namespace package hides missing package data in editable installs."""
    assert (PACKAGE / "__init__.py").is_file()


@pytest.mark.parametrize("package", ["core", "rules"])
def test_core_and_rules_import_no_io_library(package: str) -> None:
    modules = [m for m in _modules() if m.split(".")[1:2] == [package]]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(FORBIDDEN_IN_CORE)!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]", f"{package} imports {result.stdout.strip()}"


def test_rules_register_only_when_loaded() -> None:
    code = (
        "from injection_cds.rules import registry\n"
        "import injection_cds.rules\n"
        "assert not registry.REGISTRY, 'rules registered at import'\n"
        "from injection_cds.rules import load_rules\n"
        "print(len(load_rules()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 28


def test_the_service_starts_without_the_synthetic_generator(tmp_path: Path) -> None:
    """The gunicorn master's start-up path (factory and warm-up) never imports devtools."""
    code = (
        "import sys\n"
        "from injection_cds.web.factory import create_app\n"
        "from injection_cds.web.server import warm_up, warm_up_requests\n"
        f"app = create_app({{'instance_dir': {str(tmp_path)!r}}})\n"
        "assert len(warm_up_requests()) == 6\n"
        "warm_up(app)\n"
        "print(sorted(m for m in sys.modules if m.startswith('injection_cds.devtools')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert "warm-up of" not in result.stderr  # every shipped warm-up request answered
