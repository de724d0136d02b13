"""The synthetic panel generator: calibration, determinism, identities, internal consistency, writer, CLI."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from tiering import uscc
from tiering.cli import main
from tiering.cli.datasets_cmd import datasets, hidden_path, latent_path
from tiering.datasets import (
    GeneratedPanel,
    calibration_report,
    generate_blocks,
    generate_panel,
    register_frame,
    write_register,
    write_register_blocks,
)
from tiering.datasets import generate as generate_module
from tiering.datasets import writer as writer_module
from tiering.datasets.calibration import MEASURED_COLUMNS
from tiering.datasets.districts import INDUSTRY_WORDS
from tiering.datasets.generate import NOT_GENERATED
from tiering.datasets.identity import SUFFIXES
from tiering.datasets.ip import IP1_LAG
from tiering.datasets.refused import GenerateRefused
from tiering.fields import BY_ID, FIELDS, DType, resolve

SAMPLE = Path(__file__).resolve().parent.parent / "datasets" / "generated" / "panel_s42.csv"
SAMPLE_ARGS = {"firms": 300, "years": (2015, 2025), "seed": 42}


@pytest.fixture(scope="module")
def dongli() -> GeneratedPanel:
    """A district of the 东丽 size: 520 firms on the register in the snapshot year 2010."""
    return generate_panel(520, (2005, 2010), seed=1, district="东丽区")


@pytest.fixture(scope="module")
def mixed() -> GeneratedPanel:
    return generate_panel(400, (2012, 2025), seed=7)


# Relative tolerances against the published figures, read off 50 seeds of a 520-firm district: each one holds
# for at least 98 % of seeds, all of them at once for 94 % (seed 1, used here, is one of those). Revenue-weighted
# totals and ratios swing with the three firms above 10亿, and 103 invention patents is a small count.
TOLERANCE = {
    "revenue_total": 0.20,
    "hightech_revenue_share": 0.15,
    "assets_total": 0.25,
    "employees_total": 0.15,
    "tech_staff_share": 0.15,
    "rd_intensity": 0.15,
    "patents_valid": 0.20,
    "patents_invention": 0.35,
    "strategic_share": 0.15,
    "private_share": 0.05,
    "rd_to_main_revenue": 0.20,
}
FILLED = frozenset({
    "uscc", "name", "year", "registration_date", "province", "district", "industry", "ownership",
    "resident_enterprise", "independent_legal_person", "employees", "tech_staff", "rd_staff", "revenue",
    "operating_revenue", "main_revenue", "total_income", "hightech_revenue", "total_assets",
    "total_liabilities", "rd_expense", "rd_expense_domestic", "cost_expense", "net_profit", "ip_class1",
    "ip_class2", "tech_conversions", "abnormal_operation", "serious_dishonesty", "research_misconduct",
    "major_accident", "restricted_industry", "hitech_cert", "hitech_cert_expiry", "national_award_top3",
    "provincial_award", "rd_institution", "standard_lead", "standard_participation", "software_cert",
    "competition_award", "sci_project", "vc_investment", "equity_financing", "tj_hitech_cert", "hitech_field",
    "recent_award", "award_top_rank", "innovation_demo", "chuangke_top500", "chuangke_top50", "has_rd_org",
    "ip_class1_high_value", "ip_class1_own", "ip_class1_applied", "niche_market_years", "market_share",
    "strategic_emerging", "info_system", "quality_cert", "own_brand", "key_chain", "key_sector"
})
"""Fields the generator fills (every row; hitech_cert_expiry only for firms that ever held a certificate)."""
CLASS_COUNT_TOLERANCE = (0.30, 3.0)
"""Revenue class counts: within 30 % or within 3 firms, whichever is looser."""


def test_dongli_snapshot_matches_published_figures(dongli) -> None:
    panel = dongli.panel
    report = calibration_report(panel, 2010).set_index("key")
    assert int((panel["year"] == 2010).sum()) == 520
    for key in ("revenue_10yi_plus", "revenue_3_10yi", "revenue_1_3yi", "revenue_500wan_1yi", "revenue_below_500wan"):
        row = report.loc[key]
        allowed = max(CLASS_COUNT_TOLERANCE[0] * row.published, CLASS_COUNT_TOLERANCE[1])
        assert abs(row.generated - row.published) <= allowed, (key, row.generated, row.published)
    for key, tolerance in TOLERANCE.items():
        assert abs(report.loc[key, "rel_deviation"]) <= tolerance, (key, report.loc[key].to_dict())
    assert set(report.index) == {*TOLERANCE, "revenue_10yi_plus", "revenue_3_10yi", "revenue_1_3yi",
                                 "revenue_500wan_1yi", "revenue_below_500wan"}


def test_report_scales_counts_to_the_firms_of_the_year(dongli) -> None:
    panel = dongli.panel
    report = calibration_report(panel, 2008).set_index("key")
    firms_2008 = int((panel["year"] == 2008).sum())
    assert report.loc["revenue_500wan_1yi", "published"] == pytest.approx(270 * firms_2008 / 520)
    assert report.loc["rd_intensity", "published"] == 4.86
    assert report.loc["revenue_total", "unit"] == "亿元"
    with pytest.raises(GenerateRefused, match="面板中没有 2030 年的数据：可选年度为 2005–2010"):
        calibration_report(panel, 2030)


def test_same_seed_same_panel_other_seed_other_panel(dongli) -> None:
    again = generate_panel(520, (2005, 2010), seed=1, district="东丽区")
    pd.testing.assert_frame_equal(dongli.panel, again.panel)
    pd.testing.assert_frame_equal(dongli.latent, again.latent)
    other = generate_panel(520, (2005, 2010), seed=2, district="东丽区")
    assert not other.panel["uscc"].isin(dongli.panel["uscc"]).all()
    assert not np.isclose(other.panel["revenue"].sum(), dongli.panel["revenue"].sum())


def test_panel_does_not_depend_on_string_hashing() -> None:
    """Set and dict order of strings changes with PYTHONHASHSEED; the panel must not."""
    script = (
        "import hashlib, pandas as pd; from tiering.datasets import generate_panel; "
        "g = generate_panel(200, (2020, 2025), 5); "
        "print(hashlib.sha256(pd.util.hash_pandas_object(g.panel, index=False).values.tobytes()).hexdigest())"
    )
    digests = {
        subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": hash_seed},
                       capture_output=True, text=True, check=True).stdout
        for hash_seed in ("1", "2")
    }
    assert len(digests) == 1


def test_range_and_inclusive_pair_give_the_same_years() -> None:
    a = generate_panel(50, range(2020, 2023), seed=3).panel
    b = generate_panel(50, (2020, 2022), seed=3).panel
    pd.testing.assert_frame_equal(a, b)
    assert sorted(a["year"].unique()) == [2020, 2021, 2022]


def test_bad_arguments_are_refused_with_reasons() -> None:
    with pytest.raises(GenerateRefused, match="firms 应为正整数，实为 0"):
        generate_panel(0, (2020, 2022), seed=1)
    with pytest.raises(GenerateRefused, match="不认识的区县 '南开区'"):
        generate_panel(10, (2020, 2022), seed=1, district="南开区")
    with pytest.raises(GenerateRefused, match="years 应为连续年度"):
        generate_panel(10, range(2020, 2026, 2), seed=1)


def test_panel_follows_the_frame_contract(mixed) -> None:
    panel = mixed.panel
    assert list(panel.columns) == [f.id for f in FIELDS]
    assert panel["year"].dtype == np.int64
    for field in FIELDS:
        column = panel[field.id]
        if field.dtype is DType.DATE:
            assert column.dtype == "datetime64[ns]", field.id
        elif field.dtype is DType.TEXT:
            assert pd.api.types.is_string_dtype(column), field.id
        elif field.id != "year":
            assert column.dtype == np.float64, field.id
        if field.dtype is DType.BOOL:
            # blank: a field the generator leaves to the analyst
            assert set(column.dropna().unique()) <= {0.0, 1.0}, field.id
        if field.dtype is DType.INT and field.id != "year":
            assert (column == column.round()).all(), field.id
    assert not panel.duplicated(["uscc", "year"]).any()
    assert panel[sorted(NOT_GENERATED)].isna().all().all()
    assert panel[sorted(FILLED - {"hitech_cert_expiry"})].notna().all().all()


def test_uscc_valid_unique_and_built_like_tiering_uscc_make(mixed) -> None:
    codes = mixed.latent["uscc"]
    assert codes.is_unique
    assert all(uscc.problem(code) is None for code in codes)
    assert all(uscc.make(code[:17]) == code for code in codes)
    firms = mixed.panel.drop_duplicates("uscc")
    admin = firms["uscc"].str[2:8]
    registered = firms["registration_date"].dt.year
    expected = firms["district"].map({"东丽区": "120110", "宝坻区": "120115", "蓟州区": "120119"})
    expected = expected.where(~((firms["district"] == "蓟州区") & (registered < 2016)), "120225")
    assert (admin == expected).all()
    assert (firms["uscc"].str[8:10] == "MA").eq(registered >= 2016).all()


def test_names_are_unique_and_cannot_collide_by_construction(mixed) -> None:
    names = mixed.panel.drop_duplicates("uscc")["name"]
    assert names.is_unique
    assert names.str.startswith("天津").all()
    words = {w for ws in INDUSTRY_WORDS.values() for w in ws}
    endings = [w + s for w, s in product(sorted(words), SUFFIXES)]
    assert len(endings) == len(set(endings)), "an industry word plus suffix reads as another word plus suffix"


def test_firm_level_fields_do_not_change_between_years(mixed) -> None:
    firm_fields = [f.id for f in FIELDS if f.kind.value == "firm"]
    per_firm = mixed.panel.groupby("uscc")[firm_fields].nunique(dropna=False)
    assert (per_firm <= 1).all().all()


def test_parts_never_exceed_wholes_and_amounts_are_not_negative(mixed) -> None:
    p = mixed.panel
    assert (p["tech_staff"] <= p["employees"]).all()
    assert (p["rd_staff"] <= p["tech_staff"]).all()
    assert (p["employees"] >= 1).all()
    assert (p["rd_expense_domestic"] <= p["rd_expense"]).all()
    assert (p["main_revenue"] <= p["revenue"]).all()
    assert (p["hightech_revenue"] <= p["total_income"]).all()
    assert (p["vc_investment"] <= p["equity_financing"]).all()
    assert (p["ip_class1_high_value"] <= p["ip_class1"]).all()
    assert (p["ip_class1_own"] <= p["ip_class1"]).all() and (p["ip_class1_applied"] <= p["ip_class1"]).all()
    assert (p["chuangke_top50"] <= p["chuangke_top500"]).all() and (p["rd_institution"] <= p["has_rd_org"]).all()
    assert (p["recent_award"] <= p["provincial_award"]).all()
    assert p["market_share"].between(0, 1).all()
    money = [f.id for f in FIELDS if f.dtype is DType.MONEY and f.id != "net_profit"]
    counts = [f.id for f in FIELDS if f.dtype is DType.INT]
    assert (p[money + counts] >= 0).all().all()
    assert (p["net_profit"] < 0).any()


def test_births_and_exits(mixed) -> None:
    p, latent = mixed.panel, mixed.latent
    first = p.groupby("uscc", sort=False)["year"].min()
    last = p.groupby("uscc", sort=False)["year"].max()
    assert int((p["year"] == 2025).sum()) == 400
    born = first[first > 2012]
    assert len(born) > 50
    registered = p.drop_duplicates("uscc").set_index("uscc")["registration_date"].dt.year
    assert (registered[born.index] == born).all()
    assert (first == np.maximum(registered[first.index], 2012)).all()
    exited = latent.set_index("uscc")["exit_year"].dropna()
    assert len(exited) == round(400 * 0.025 * 13)
    assert (last[exited.index] == exited.astype(int)).all()
    assert (last.drop(exited.index) == 2025).all()
    years_per_firm = p.groupby("uscc")["year"].agg(lambda y: y.max() - y.min() + 1 == len(y))
    assert years_per_firm.all(), "a firm's years must be consecutive"


def test_latent_is_separate_and_aligned(mixed) -> None:
    latent, panel = mixed.latent, mixed.panel
    assert list(latent.columns) == ["uscc", "growth_potential", "innovation", "size_quantile", "exit_year"]
    assert latent["uscc"].tolist() == panel["uscc"].drop_duplicates().tolist()
    assert not set(latent.columns[1:]) & set(panel.columns)
    assert 0.06 < latent["growth_potential"].std() < 0.12


def test_growth_is_persistent_but_mostly_noise() -> None:
    """Out-of-time logistic regression on observable features predicts 3-year revenue CAGR >= 20 % with a
    realistic ROC AUC, and the hidden growth potential ranks better than chance too."""
    panel = generate_panel(2000, (2005, 2025), seed=11).panel.sort_values(["uscc", "year"])
    by_firm = panel.groupby("uscc")
    log_revenue = np.log(panel["revenue"].clip(lower=1))
    frame = panel.assign(
        log_revenue=log_revenue,
        growth=(log_revenue - np.log(by_firm["revenue"].shift(1).clip(lower=1))).fillna(0).clip(-2, 2),
        later=by_firm["revenue"].shift(-3),
        later_year=by_firm["year"].shift(-3),
        age=panel["year"] - panel["registration_date"].dt.year,
        rd_share=(panel["rd_expense"] / panel["revenue"].clip(lower=1)).clip(0, 1),
        tech_share=panel["tech_staff"] / panel["employees"],
        ip=np.log1p(2 * panel["ip_class1"] + panel["ip_class2"]),
    )
    # registration-year rows are left out: a partial first year makes the next three years' growth trivial
    rows = frame[(frame["revenue"] > 0) & (frame["later_year"] == frame["year"] + 3) & (frame["age"] >= 2)
                 & (frame["employees"] >= 10)].copy()
    rows["label"] = (rows["later"] / rows["revenue"] >= 1.2**3).astype(int)
    rows["log_age"] = np.log1p(rows["age"])
    features = ["log_revenue", "growth", "log_age", "rd_share", "tech_share", "ip", "hitech_cert"]
    train, test = rows[rows["year"] <= 2016], rows[rows["year"] == 2019]
    model = LogisticRegression(max_iter=1000).fit(train[features], train["label"])
    auc = roc_auc_score(test["label"], model.predict_proba(test[features])[:, 1])
    assert 0.15 < test["label"].mean() < 0.40
    assert 0.60 <= auc <= 0.75


def test_hitech_certificates_cover_whole_three_year_terms(mixed) -> None:
    p = mixed.panel
    checked = 0
    for _, firm in p.groupby("uscc", sort=False):
        flags = firm["hitech_cert"].to_numpy()
        years = firm["year"].to_numpy()
        edges = np.flatnonzero(np.diff(np.r_[0, flags, 0]))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            if start > 0 and stop < len(flags):  # runs cut by the panel's or the firm's ends are partial
                assert (stop - start) % 3 == 0, (firm["uscc"].iloc[0], years[start], years[stop - 1])
                checked += 1
        expiry = firm["hitech_cert_expiry"].iloc[0]
        if flags.any():
            assert expiry.year >= years[flags == 1].max() + 1
    assert checked > 10
    assert 0.15 < p.loc[p["year"] == 2025, "hitech_cert"].mean() < 0.45


def test_invention_patents_lag_behind_and_are_rarer(mixed) -> None:
    p = mixed.panel
    age = p["year"] - p["registration_date"].dt.year
    assert (p.loc[age < IP1_LAG, "ip_class1"] == 0).all()
    last = p[p["year"] == 2025]
    assert 0.05 < last["ip_class1"].sum() / (last["ip_class1"].sum() + last["ip_class2"].sum()) < 0.2


def test_write_register_headers_cells_and_units(mixed) -> None:
    panel = mixed.panel.head(40)
    frame = register_frame(panel)
    assert list(frame.columns[:4]) == ["统一社会信用代码", "企业名称", "年度", "注册日期"]
    assert "销售收入(万元)" in frame.columns and "职工总数(人)" in frame.columns
    assert [resolve(h).id for h in frame.columns] == list(panel.columns)
    assert set(frame["高新技术企业证书有效"]) <= {"是", "否"}
    assert frame["注册日期"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert str(frame["职工总数(人)"].dtype) == "Int64"
    assert (frame["细分市场占有率(%)"] == (panel["market_share"] * 100).round(6).to_numpy()).all()
    in_yuan = register_frame(panel, money_unit="元")
    assert (in_yuan["销售收入(元)"] == (panel["revenue"] * 10_000).round(0).to_numpy()).all()
    with pytest.raises(GenerateRefused, match="金额单位应为 万元 或 元，实为 '美元'"):
        register_frame(panel, money_unit="美元")
    with pytest.raises(GenerateRefused, match="面板中有不是已知字段的列：growth_potential"):
        register_frame(panel.assign(growth_potential=0.1))


def test_write_register_formats(tmp_path, mixed, monkeypatch) -> None:
    panel = mixed.panel.head(30)
    csv = write_register(panel, tmp_path / "r.csv")
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")
    parquet = write_register(panel, tmp_path / "r.parquet")
    assert list(pd.read_parquet(parquet).columns) == list(register_frame(panel).columns)
    with pytest.raises(GenerateRefused, match="无法写出 r.txt：文件名应以 .xlsx、.csv 或 .parquet 结尾"):
        write_register(panel, tmp_path / "r.txt")
    monkeypatch.setattr(writer_module, "EXCEL_MAX_ROWS", 10)
    with pytest.raises(GenerateRefused, match="30 行超出 Excel 单个工作表的上限 10 行：请改用 .csv 或 .parquet"):
        write_register(panel, tmp_path / "r.xlsx")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_registers_load_back_unchanged(tmp_path, suffix) -> None:
    register = pytest.importorskip("tiering.register")
    panel = generate_panel(25, (2022, 2025), seed=5).panel
    loaded = register.load_register(write_register(panel, tmp_path / f"r{suffix}"))
    assert loaded.refusals == [] and loaded.warnings == []
    # the loaded panel keeps the file's row order
    pd.testing.assert_frame_equal(loaded.frame[list(panel.columns)], panel.reset_index(drop=True))


def test_shipped_sample_regenerates_identically() -> None:
    generated = generate_panel(**SAMPLE_ARGS)
    written = io.StringIO()
    register_frame(generated.panel).to_csv(written, index=False)
    read = {"dtype": str, "keep_default_na": False}
    shipped = pd.read_csv(SAMPLE, encoding="utf-8-sig", **read)
    pd.testing.assert_frame_equal(shipped, pd.read_csv(io.StringIO(written.getvalue()), **read))
    shipped_latent = pd.read_csv(latent_path(SAMPLE), encoding="utf-8-sig", dtype={"uscc": str})
    pd.testing.assert_frame_equal(
        shipped_latent, generated.latent.astype({"exit_year": "float64"}), check_exact=True
    )
    shipped_hidden = pd.read_csv(hidden_path(SAMPLE), encoding="utf-8-sig", dtype={"uscc": str})
    pd.testing.assert_frame_equal(shipped_hidden, generated.hidden, check_exact=True)
    assert SAMPLE.stat().st_size < 3_000_000


def test_cli_generate_writes_register_latent_and_summary(tmp_path) -> None:
    out = tmp_path / "dongli.csv"
    result = CliRunner().invoke(
        datasets, ["generate", "--firms", "60", "--years", "2020-2023", "--seed", "9", "--out", str(out),
                   "--district", "蓟县"],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    panel = generate_panel(60, (2020, 2023), 9, "蓟县").panel
    assert lines[0] == f"wrote {out}, {tmp_path / 'dongli.latent.csv'} and {tmp_path / 'dongli.hidden.csv'}"
    assert lines[1] == f"firms: {panel['uscc'].nunique()} (60 in 2023); firm-years: {len(panel)}; years: 2020–2023"
    assert lines[2] == "calibration, 2023 against the published figures (counts scaled to the firms of 2023):"
    assert len(lines) == 3 + len(calibration_report(panel, 2023))
    assert (tmp_path / "dongli.latent.csv").is_file()
    hidden = pd.read_csv(tmp_path / "dongli.hidden.csv", encoding="utf-8-sig", dtype={"uscc": str})
    assert hidden[["uscc", "year"]].equals(panel[["uscc", "year"]].reset_index(drop=True).astype({"uscc": str}))
    assert set(pd.read_csv(out, encoding="utf-8-sig")["所在区"]) == {"蓟州区"}


def test_cli_errors(tmp_path) -> None:
    runner = CliRunner()
    bad_years = runner.invoke(datasets, ["generate", "--firms", "5", "--years", "2025-2015", "--seed", "1",
                                         "--out", str(tmp_path / "x.csv")])
    assert bad_years.exit_code == 2
    assert "Invalid value for '--years': 结束年度 2015 早于起始年度 2025" in bad_years.output
    bad_district = runner.invoke(main, ["datasets", "generate", "--firms", "5", "--seed", "1", "--out",
                                        str(tmp_path / "x.csv"), "--district", "南开区"])
    assert bad_district.exit_code == 2
    assert bad_district.output == ("错误 / error: 不认识的区县 '南开区'：可选 东丽区、宝坻区、蓟州区、包头市"
                                   "（也可写 蓟县、东丽、宝坻、包头） [generate-refused]\n")
    bad_suffix = runner.invoke(datasets, ["generate", "--firms", "5", "--seed", "1", "--out", str(tmp_path / "x.txt")])
    assert bad_suffix.exit_code == 2
    assert "x.txt 应以 .xlsx、.csv 或 .parquet 结尾" in bad_suffix.output


def test_large_runs_are_vectorised() -> None:
    start = time.perf_counter()
    panel = generate_panel(50_000, (2022, 2025), seed=3).panel
    elapsed = time.perf_counter() - start
    assert int((panel["year"] == 2025).sum()) == 50_000
    assert panel.drop_duplicates("uscc")["name"].is_unique
    assert elapsed < 10, f"50,000 firms took {elapsed:.1f} s; the generator must stay vectorised"


def test_every_money_field_is_generated(mixed) -> None:
    money = [f.id for f in FIELDS if f.dtype is DType.MONEY]
    assert money == [m for m in money if BY_ID[m].unit == "万元"]
    assert all(mixed.panel[m].sum() > 0 for m in money if m != "net_profit")


def test_generation_reports_progress_through_the_callers_callback() -> None:
    from tiering.datasets.generate import ASSEMBLING, SIMULATING

    heard: list[tuple[str, int, int]] = []
    generate_panel(30, (2022, 2024), seed=3, progress=lambda *said: heard.append(said))
    assert heard == [(SIMULATING, 0, 1), (ASSEMBLING, 0, 1)]  # one block of firms: its start is the news


def _digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()


def test_a_register_made_in_blocks_is_the_whole_assembly(monkeypatch) -> None:
    """Digests of generate_panel(300, (2020, 2023), 5) with 64 firms per random stream, taken from the generator
    as it was when it assembled the whole register at once: made in six blocks now, the panel is the same."""
    monkeypatch.setattr(generate_module, "CHUNK", 64)
    generated = generate_panel(300, (2020, 2023), 5)
    assert _digest(generated.panel) == "032c8e8677bc57b9baeef7f4d93a11e6ea2ab12d96876dddd39468035ddafcf0"
    assert _digest(generated.latent) == "1df9be12db6846e347607f1c0a6828b82e282d0e0db6e1a21a9dc09a0b269da4"
    assert _digest(generated.hidden) == "3b57ca4e37f06bbe1b312fef424ed68970647911e90640c220821cc38ac66d74"
    blocks = generate_blocks(300, (2020, 2023), 5)
    assert (blocks.rows, blocks.firms) == (len(generated.panel), len(generated.latent))
    firms_per_block = [b.panel["uscc"].nunique() for b in blocks.blocks]
    assert firms_per_block == [64] * 5 + [len(generated.latent) - 5 * 64]


def test_blocks_are_written_as_the_whole_register(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(generate_module, "CHUNK", 64)
    whole = generate_panel(300, (2020, 2023), 5).panel
    blocks = generate_blocks(300, (2020, 2023), 5)
    panels = [b.panel for b in blocks.blocks]
    assert len(panels) == 6 and sum(map(len, panels)) == blocks.rows
    assert all(p.index.equals(pd.RangeIndex(len(p))) for p in panels)
    csv = write_register_blocks(iter(panels), tmp_path / "blocks.csv", rows=blocks.rows)
    assert csv.read_bytes() == write_register(whole, tmp_path / "whole.csv").read_bytes()
    parquet = write_register_blocks(iter(panels), tmp_path / "blocks.parquet", rows=blocks.rows)
    assert pq.ParquetFile(parquet).metadata.num_row_groups == 6
    reference = pd.read_parquet(write_register(whole, tmp_path / "w.parquet"))
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), reference)
    assert reference["近三年省部级以上科技奖励前三"].isna().all()  # blank throughout: typed by its field (是/否 text)
    assert pq.read_schema(parquet).field("近三年省部级以上科技奖励前三").type == pa.string()


def test_a_column_blank_in_the_first_block_but_filled_later_is_written_with_its_declared_type(
        tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(generate_module, "CHUNK", 64)
    panels = [b.panel for b in generate_blocks(300, (2020, 2023), 5).blocks]
    assert panels[0]["hitech_cert_expiry"].notna().any() and panels[0]["employees"].notna().any()
    # the first block of 64 firms has no 高企 certificate date and no headcount; later blocks have both
    panels[0] = panels[0].assign(hitech_cert_expiry=pd.NaT, employees=np.nan)
    parquet = write_register_blocks(iter(panels), tmp_path / "blocks.parquet", rows=sum(map(len, panels)))
    schema = pq.read_schema(parquet)
    assert schema.field("高企证书到期日").type == pa.string()
    assert schema.field("职工总数(人)").type == pa.int64()
    whole = pd.concat(panels, ignore_index=True)
    pd.testing.assert_frame_equal(pd.read_parquet(parquet),
                                  pd.read_parquet(write_register(whole, tmp_path / "whole.parquet")))
    loaded = pytest.importorskip("tiering.register").load_register(parquet)
    assert loaded.refusals == []
    later = loaded.frame.iloc[len(panels[0]):]
    assert later["hitech_cert_expiry"].notna().sum() == whole["hitech_cert_expiry"].notna().sum() > 0
    assert loaded.frame.iloc[: len(panels[0])]["employees"].isna().all()
    assert later["employees"].notna().all()


def test_an_oversized_sheet_is_refused_before_any_block_is_made(tmp_path) -> None:
    def never() -> Iterator[pd.DataFrame]:
        raise AssertionError("a block was taken")
        yield pd.DataFrame()

    rows = writer_module.EXCEL_MAX_ROWS + 1
    with pytest.raises(GenerateRefused, match=f"{rows:,} 行超出 Excel 单个工作表的上限"):
        write_register_blocks(never(), tmp_path / "big.xlsx", rows=rows)
    with pytest.raises(GenerateRefused, match="金额单位应为 万元 或 元，实为 '美元'"):
        write_register_blocks(never(), tmp_path / "r.csv", rows=1, money_unit="美元")
    assert not (tmp_path / "big.xlsx").exists() and not (tmp_path / "r.csv").exists()


def test_cli_generates_in_blocks_what_the_whole_panel_writes(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(generate_module, "CHUNK", 64)
    out = tmp_path / "blocks.parquet"
    result = CliRunner().invoke(datasets, ["generate", "--firms", "300", "--years", "2020-2023", "--seed", "5",
                                           "--out", str(out)])
    assert result.exit_code == 0, result.output
    whole = generate_panel(300, (2020, 2023), 5)
    reference = pd.read_parquet(write_register(whole.panel, tmp_path / "w.parquet"))
    pd.testing.assert_frame_equal(pd.read_parquet(out), reference)
    hidden = io.StringIO()
    whole.hidden.to_csv(hidden, index=False)
    assert hidden_path(out).read_bytes() == b"\xef\xbb\xbf" + hidden.getvalue().encode()
    lines = result.output.splitlines()
    assert lines[1] == f"firms: {len(whole.latent)} (300 in 2023); firm-years: {len(whole.panel):,}; years: 2020–2023"
    report = calibration_report(whole.panel, 2023)
    assert lines[3:] == [
        f"  {row.label:<40} published {row.published:>12,.2f}  generated {row.generated:>12,.2f}  "
        f"{row.rel_deviation:+7.1%}  {row.unit}" for row in report.itertuples(index=False)
    ]


def test_calibration_reads_only_the_measured_columns(mixed) -> None:
    narrow = mixed.panel[["year", *MEASURED_COLUMNS]]
    pd.testing.assert_frame_equal(calibration_report(narrow, 2025), calibration_report(mixed.panel, 2025))
