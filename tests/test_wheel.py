"""A built wheel, installed (not editable) into a fresh virtual environment, runs the README's main job.

The wheel is built from this checkout without build isolation (setuptools and wheel come with the test extras, so no
download is needed); the fresh environment borrows the test environment's installed dependencies through a ``.pth``
line instead of downloading them, but imports tiering only from the wheel. The classify runs in an empty folder, so
nothing can be found relative to the checkout: rules, policies and the sample must come from the package data.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tiering.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TIERING_RULES")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.packaging
def test_wheel_in_a_fresh_venv_classifies_the_bundled_sample(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = _run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--no-build-isolation", "-q",
                 "-w", wheels)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("tiering-*.whl")

    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", "--without-pip", venv).returncode == 0
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q",
                     wheel)
    assert installed.returncode == 0, installed.stderr

    work = tmp_path / "work"
    work.mkdir()
    where = _run(python, "-c", "import tiering.bundled as b; print(b.__file__); print(b.bundled('rules'))", cwd=work)
    module, rules = where.stdout.split()
    assert module.startswith(str(site)) and rules.startswith(str(site)), where.stdout

    tiering = venv / "bin" / "tiering"
    copied = _run(tiering, "datasets", "sample", ".", cwd=work)
    assert copied.returncode == 0, copied.stderr
    run = _run(tiering, "classify", "sample_register.xlsx", "--year", "2025", "--out", "out", "--format", "csv",
               "--no-audit", cwd=work)
    assert run.returncode == 0, run.stderr
    assert (work / "out" / "trace").is_dir()
    checked = _run(tiering, "rules", "test", cwd=work)
    assert checked.returncode == 0 and " 0 failed" in checked.stdout, checked.stdout + checked.stderr

    # the installed copy gives exactly what the checkout gives
    here = tmp_path / "checkout-out"
    result = CliRunner().invoke(main, ["classify", str(ROOT / "datasets" / "sample_register.xlsx"), "--year", "2025",
                                       "--out", str(here), "--format", "csv", "--no-audit"])
    assert result.exit_code == 0, result.output
    for table in ("结果.csv", "层级.csv", "汇总.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(work / "out" / table), pd.read_csv(here / table))
