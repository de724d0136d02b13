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


def test_one_firm_is_found_in_the_cache_as_the_register_finds_it(cache: Path) -> None:
    """The one-firm lookup (explain without pandas) gives the rows firm_rows gives — by code, exact name or a name
    fragment only one firm has — and leaves everything else (not read yet, unknown, ambiguous, no row of the data
    year) to reading the register."""
    from tiering.app import firm_rows
    from tiering.register.cache import cached_firm

    assert cached_firm(SAMPLE, OPTIONS, "东丽智能装备有限公司", 2024) is None  # not read this way yet
    register = cached_register(SAMPLE, OPTIONS, lambda: load_register(SAMPLE))
    for firm_id in ("91120116MA0500004A", "东丽智能装备有限公司", "东丽智能"):
        found = cached_firm(SAMPLE, OPTIONS, firm_id, 2024)
        assert found is not None and found.sha256 == register.sha256
        assert (found.uscc, found.name) == ("91120116MA0500004A", "东丽智能装备有限公司")
        rows = firm_rows(register, firm_id, 2025)
        assert [r["year"] for r in found.rows] == rows["year"].tolist()
        expected = [{k: (v.isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in r.items()
                     if not pd.isna(v)} for r in rows.to_dict("records")]
        assert found.rows == expected
    assert cached_firm(SAMPLE, OPTIONS, "东丽", 2024) is None  # several firms' names hold it
    assert cached_firm(SAMPLE, OPTIONS, "不存在的公司", 2024) is None
    assert cached_firm(SAMPLE, OPTIONS, "91120116MA0500004A", 2029) is None
    assert cached_firm(SAMPLE, {**OPTIONS, "money_unit": "元"}, "91120116MA0500004A", 2024) is None
