"""The register cache: a second reading of the same file the same way gives the very same Register without reading
the file; a different content, path or option is read afresh; a damaged entry is ignored."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tiering.cli import main
from tiering.register import Register, RegisterError, load_register
from tiering.register.cache import cached_register

ROOT = Path(__file__).resolve().parent.parent
WITH_ERRORS = ROOT / "datasets" / "sample_register_with_errors.xlsx"
SAMPLE = ROOT / "datasets" / "sample_register.xlsx"
OPTIONS = {"money_unit": None, "encoding": None, "sheet": None, "header_row": None}


def _never() -> Register:
    raise AssertionError("the file was read although the cache holds it")


def _same(a: Register, b: Register) -> None:
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
    pd.testing.assert_frame_equal(a.rejected, b.rejected, check_exact=True)
    for name in ("refusals", "rows_read", "path", "sha256", "money_units", "columns", "warnings", "notes",
                 "unused_columns"):
        assert getattr(a, name) == getattr(b, name), name


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TIERING_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "register"


def test_second_reading_comes_from_the_cache_unchanged(cache: Path) -> None:
    fresh = cached_register(WITH_ERRORS, OPTIONS, lambda: load_register(WITH_ERRORS))
    assert len(fresh.refusals) == 5 and not fresh.rejected.empty
    again = cached_register(WITH_ERRORS, OPTIONS, _never)
    _same(again, fresh)
    assert again.refusals[0].message() == ('sample_register_with_errors.xlsx 工作表“企业名录” 行 3 列 "职工总数(人)" '
                                           '值 "一百二十": 应为数字')


def test_other_content_path_or_option_is_read_afresh(cache: Path, tmp_path: Path) -> None:
    cached_register(SAMPLE, OPTIONS, lambda: load_register(SAMPLE))
    copy = tmp_path / "copy.xlsx"
    shutil.copy(SAMPLE, copy)
    read: list[Path] = []

    def reading(path: Path, **options: object) -> Register:
        read.append(path)
        return load_register(path, **options)  # type: ignore[arg-type]

    cached_register(copy, OPTIONS, lambda: reading(copy))
    cached_register(SAMPLE, {**OPTIONS, "money_unit": "万元"}, lambda: reading(SAMPLE, money_unit="万元"))
    shutil.copy(WITH_ERRORS, copy)
    cached_register(copy, OPTIONS, lambda: reading(copy))
    assert read == [copy, SAMPLE, copy]


def test_damaged_entry_is_ignored_and_an_unusable_file_is_never_stored(cache: Path, tmp_path: Path) -> None:
    cached_register(SAMPLE, OPTIONS, lambda: load_register(SAMPLE))
    (entry,) = cache.iterdir()
    (entry / "frame.parquet").write_bytes(b"not parquet")
    _same(cached_register(SAMPLE, OPTIONS, lambda: load_register(SAMPLE)), load_register(SAMPLE))
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(RegisterError):
        cached_register(bad, OPTIONS, lambda: load_register(bad))
    assert len(list(cache.iterdir())) == 1


def test_explain_reads_the_same_from_the_cache(cache: Path) -> None:
    args = ["explain", str(WITH_ERRORS), "91120116MA0500004A", "--year", "2025", "--program", "kjxzxqy"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert len(list(cache.iterdir())) == 1
    second = CliRunner().invoke(main, args)
    assert second.output == first.output
    assert "企业：东丽智能装备有限公司（91120116MA0500004A）" in second.output
