"""The layers of the package, enforced: the command line is a face over the application layer, features never
import it, and no two packages (or modules of one package) import each other. The contracts are import-linter's,
in pyproject.toml; this test runs them so that a new violation fails the suite."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def test_import_contracts_are_kept() -> None:
    done = subprocess.run([sys.executable, "-c", LINT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


def test_every_feature_package_is_forbidden_to_import_the_command_line() -> None:
    """A package added later is covered only if it is listed; this fails until it is."""
    forbidden = next(c for c in _contracts() if c["type"] == "forbidden" and c["forbidden_modules"] == ["tiering.cli"])
    packages = {f"tiering.{p.name}" for p in (ROOT / "tiering").iterdir() if (p / "__init__.py").is_file()}
    assert set(forbidden["source_modules"]) == packages - {"tiering.cli"}


def test_the_application_layer_imports_no_click() -> None:
    """Progress and errors reach the command line through callbacks and the error family, not through click."""
    code = "import sys, tiering.app, tiering.audit.replay, tiering.report.data; print('click' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr
