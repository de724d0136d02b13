"""``tiering explain`` for one firm: the per-firm path from the register cache's rows (no pandas) says, byte for
byte, what the whole register's classification says of that firm — for every firm of the sample and a few options
(--program, --date, --year)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tiering.app import classify, classify_one, rules_in_force
from tiering.cli import main
from tiering.explain.text import verdicts
from tiering.register import load_register
from tiering.register.cache import cached_firm, cached_register
from tiering.rules.library import load_library

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample_register.xlsx"
OPTIONS = {"money_unit": None, "encoding": None, "sheet": None, "header_row": None}
LIBRARY = load_library()


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIERING_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield cached_register(SAMPLE, OPTIONS, lambda: load_register(SAMPLE))


@pytest.mark.parametrize(("year", "on", "programs"), [
    (2025, None, ()),
    (2025, dt.date(2026, 6, 30), ("kjxzxqy", "gxjsqy", "zjtx", "zjtx_xjr", "tj_xjr")),
    (2024, None, ("kjxzxqy", "tj_cy", "tj_dl", "tj_lj", "tj_ljpy", "gxjsqy")),
])
def test_every_firm_alone_reads_as_the_whole_classification(register, year: int, on: dt.date | None,
                                                             programs: tuple[str, ...]) -> None:
    rulesets, on = rules_in_force(LIBRARY, year, on, programs=list(programs) or None)
    whole = classify(register, rulesets, year, on)
    assert len(whole.lacks)  # the explanations below read the whole register's 尚缺 table
    firms = list(zip(whole.evaluation.firms, whole.evaluation.names, strict=True))
    assert len(firms) > 30
    for uscc, name in firms:
        found = cached_firm(SAMPLE, OPTIONS, str(uscc), year - 1)
        assert found is not None and (found.uscc, found.name) == (uscc, name)
        one = classify_one(found.rows, found.uscc, found.name, rulesets, year, on)
        assert one.verdicts() == verdicts(rulesets, whole.firm_results(uscc)), uscc
        assert one.explain() == whole.explain(uscc), uscc


def test_explain_from_the_cache_prints_what_reading_the_register_prints(tmp_path: Path) -> None:
    """The first explain reads the file (and fills the cache), the next ones read one firm from the cache: the
    same output, by code and by a name fragment, and an unknown firm is still refused by the register's lookup."""
    env = {"TIERING_CACHE_DIR": str(tmp_path / "cache")}
    args = ["explain", str(SAMPLE), "天保精密", "--year", "2025", "--program", "tj_xjr", "--program", "kjxzxqy",
            "--store", str(tmp_path / "none.sqlite")]
    first = CliRunner(env=env).invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "按名称片段“天保精密”找到：天保精密仪器有限公司" in first.output
    assert "尚缺：销售收入（2024年） 需增加400万元（9,600万元 → 1亿元，+4.2%）（暂定条件）" in first.output
    again = CliRunner(env=env).invoke(main, args)
    assert again.output == first.output
    unknown = CliRunner(env=env).invoke(main, ["explain", str(SAMPLE), "不存在的公司", "--year", "2025"])
    assert unknown.exit_code == 3 and "[firm-not-found]" in unknown.output


PROBE = ("import sys\nfrom tiering.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
         "    assert not e.code, e.code\n"
         "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'pyarrow', 'openpyxl'}))")
"""The command run in a fresh interpreter, then which of the heavy libraries it loaded (its last line)."""


def _explain_in_a_fresh_process(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True)


def test_explain_from_the_cache_loads_neither_pandas_nor_arrow(tmp_path: Path) -> None:
    env = {**os.environ, "TIERING_CACHE_DIR": str(tmp_path / "cache")}
    args = ["explain", str(SAMPLE), "91120116MA0500004A", "--year", "2025", "--store", str(tmp_path / "none.sqlite")]
    runs = [_explain_in_a_fresh_process(args, env) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    (*shown, loaded), (*shown_again, loaded_again) = (r.stdout.splitlines() for r in runs)
    assert loaded == "['openpyxl', 'pandas', 'pyarrow']"  # the first run reads the file
    assert loaded_again == "[]" and shown_again == shown


def test_explain_beside_an_audit_store_reads_it_without_pandas_nor_arrow(tmp_path: Path) -> None:
    """An analyst's usual case: the register was classified and recorded, so explain names the recorded run and
    any decision on the firm — still without loading pandas or Arrow once the firm is in the cache."""
    store = tmp_path / "audit.sqlite"
    env = {**os.environ, "TIERING_CACHE_DIR": str(tmp_path / "cache")}
    classified = CliRunner(env=env).invoke(main, ["classify", str(SAMPLE), "--year", "2025", "--out",
                                                  str(tmp_path / "run"), "--store", str(store)])
    assert classified.exit_code == 0, classified.output
    args = ["explain", str(SAMPLE), "91120116MA0500004A", "--year", "2025", "--store", str(store)]
    runs = [_explain_in_a_fresh_process(args, env) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    (*shown, _), (*shown_again, loaded_again) = (r.stdout.splitlines() for r in runs)
    assert any(line.startswith("运行编号 run：") and "（审计库中同一名录" in line for line in shown_again)
    assert loaded_again == "[]" and shown_again == shown
