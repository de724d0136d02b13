"""The best ranking a generated panel's hidden state allows (tiering.datasets.oracle) and `model evaluate --latent`."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import roc_auc_score

import tiering.cli.model_cmd  # noqa: F401  (registers the ``model`` group on ``main``)
from tiering.cli import main
from tiering.datasets.generate import generate_panel
from tiering.datasets.oracle import best_ranking, forward_expectation
from tiering.errors import PanelUnusable
from tiering.growth.labels import LabelSpec, growth_label

GENERATED = Path(__file__).resolve().parents[1] / "datasets" / "generated"


def test_forward_expectation_is_the_generators_law_read_forwards() -> None:
    # Registered 2020, cohort 2021 (age 1): growth into 2022, 2023, 2024 at ages 2, 3, 4 is
    # 0.04 + 0.30·exp(−(age − 1)/2) each year plus the potential; a transient of +0.2 keeps ρ³ = 0.125 of itself.
    # A firm in its registration year (age 0, part_year log 0.5): the label annualises its base, the short year
    # does not count.
    hidden = pd.DataFrame({"uscc": ["a", "b"], "year": [2021, 2020], "age": [1, 0], "log_level": [5.0, 5.0],
                           "transient": [0.2, 0.0], "part_year": [0.0, np.log(0.5)]})
    potential = pd.Series([0.1, 0.0])
    young = 0.30 * (np.exp(-0.5) + np.exp(-1.0) + np.exp(-1.5))
    expected_a = 3 * 0.04 + young + 3 * 0.1 + (0.5 ** 3 - 1) * 0.2
    expected_b = 3 * 0.04 + 0.30 * (1 + np.exp(-0.5) + np.exp(-1.0))
    np.testing.assert_allclose(forward_expectation(hidden, potential, 3), [expected_a, expected_b], rtol=1e-12)
    # Without the transient, firm a is expected to follow its persistent path only.
    persistent_a = expected_a - (0.5 ** 3 - 1) * 0.2
    np.testing.assert_allclose(forward_expectation(hidden, potential, 3, transient=False),
                               [persistent_a, expected_b], rtol=1e-12)


@pytest.fixture(scope="module")
def ranked() -> pd.DataFrame:
    generated = generate_panel(150, (2014, 2025), 11)
    rankings = best_ranking(generated.hidden, generated.latent)
    label = growth_label(generated.panel.reset_index(drop=True), LabelSpec())["label"].to_numpy()
    return rankings.assign(label=label)[lambda d: d["label"].notna()]


def test_the_best_ranking_beats_the_potential_alone_by_a_wide_margin(ranked: pd.DataFrame) -> None:
    auc = {name: np.mean([roc_auc_score(g["label"], g[name]) for _, g in ranked.groupby("year")
                          if g["label"].nunique() == 2])
           for name in ("oracle", "oracle_no_transient", "oracle_no_potential", "oracle_forward", "potential_only")}
    # The potential alone ignores the age premium and the mean reversion of revenue: far from the best.
    assert auc["oracle_forward"] > auc["potential_only"] + 0.08
    # Knowing the persistent level of revenue as well (paths end at a calibrated size) adds more.
    assert auc["oracle"] > auc["oracle_forward"]
    assert auc["oracle"] > 0.8
    # Leaving out the transient (a model may not reward a bad year) costs part of that, not all of the gain.
    assert auc["oracle"] > auc["oracle_no_transient"] > auc["potential_only"] + 0.05
    # Age and the persistent level known exactly, the potential not: far below the ranking that knows it too.
    assert auc["oracle_no_transient"] > auc["oracle_no_potential"] + 0.05


def test_best_ranking_refuses_a_label_the_hidden_truth_does_not_describe() -> None:
    generated = generate_panel(10, (2020, 2024), 1)
    with pytest.raises(PanelUnusable, match="隐藏真值只描述营业收入的增长，无法为 employees 标签给出最佳排序"):
        best_ranking(generated.hidden, generated.latent, LabelSpec("employees"))
    with pytest.raises(PanelUnusable, match=r"隐藏真值缺少列 \['transient'\]") as absent:
        best_ranking(generated.hidden.drop(columns="transient"), generated.latent)
    assert absent.value.hint == "请用 tiering datasets generate 重新生成名录及其隐藏真值"


def test_cli_evaluate_prints_the_oracles_and_needs_the_hidden_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [
        "model", "evaluate", "--register", str(GENERATED / "panel_s42.csv"),
        "--latent", str(GENERATED / "panel_s42.latent.csv"), "--test-from", "2022"])
    assert result.exit_code == 0, result.output
    mean = result.output.split("out-of-time mean over test years")[1].split("rankings the hidden truth")[0]
    rows = {line.split()[0]: line.split() for line in mean.splitlines()[2:] if line.strip()}
    assert {"oracle", "oracle_no_transient", "oracle_no_potential", "oracle_forward", "potential_only",
            "scorecard"} <= set(rows)
    # columns: model n_train n_test base_rate roc_auc …; the best ranking is above the scorecard
    auc = {name: float(row[4]) for name, row in rows.items()}
    assert auc["oracle"] > auc["scorecard"]
    assert "  oracle_no_transient: 不含暂时波动的最佳排序 best ranking without the transient" in result.output
    assert "  oracle_no_potential: 不知增长潜力的最佳排序 best ranking without the growth potential" in result.output
    for name in ("oracle", "oracle_no_transient", "oracle_no_potential"):
        gap = float(result.output.split(f"scorecard ROC AUC gap to {name} 评分卡与{name}之差: ")[1].split()[0])
        assert gap == pytest.approx(auc[name] - auc["scorecard"], abs=0.0015)

    alone = tmp_path / "panel_s42.latent.csv"
    shutil.copy(GENERATED / "panel_s42.latent.csv", alone)
    refused = CliRunner().invoke(main, ["model", "evaluate", "--register", str(GENERATED / "panel_s42.csv"),
                                        "--latent", str(alone)])
    assert refused.exit_code == 3
    assert "找不到同目录的逐年隐藏真值 panel_s42.hidden.csv" in refused.output
