"""``tiering model``: train, evaluate (out of time) and apply the growth-propensity scorecard."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from tiering.cli import SuggestingGroup, main
from tiering.cli.progress import terminal_progress
from tiering.datasets.oracle import DESCRIPTIONS, best_ranking
from tiering.errors import TieringError, Where
from tiering.growth.card import build_card, load_card, save_card
from tiering.growth.directions import load_declarations
from tiering.growth.features import AMOUNTS, build_features
from tiering.growth.labels import LabelSpec, growth_label
from tiering.growth.mapping import PanelMapping, load_mapping, read_panel
from tiering.growth.training import train_scorecard
from tiering.growth.validation import RAW_PREFIX, OutOfTime, format_table, out_of_time

REAL_DATA = "cn_machinery_listed"
FEATURES = "构造特征与标签 building features and labels"
TRAINING = "训练评分卡 training the scorecard"
"""The mapping that reads the listed-firm benchmark panel (models/mappings/cn_machinery_listed.yaml)."""

_PANEL = click.option("--panel", type=click.Path(dir_okay=False),
                      help="面板数据（panel）：任意企业-年度面板，按 --mapping 读取。")
_MAPPING = click.option("--mapping", help="列映射（mapping）：YAML 文件或 models/mappings/ 中的 id。"
                                          "Column mapping: a YAML file or the id of one in models/mappings/ "
                        "(register, cn_machinery_listed).")
_DIRECTIONS = click.option("--directions", type=click.Path(dir_okay=False), default=None,
                           help="特征方向（directions），默认 models/directions.yaml。")
_UNIT = click.option("--unit", type=click.Choice(["万元", "元"]), default=None,
                     help="金额单位（unit）：表头未写单位的金额列按此单位读取。")


class UnusableInput(TieringError, error_id="model-input-unusable"):
    """An input file or model card that cannot be used at all (exit code 3)."""

    @classmethod
    def because(cls, error: Exception, source: object | None = None) -> TieringError:
        """The error to raise for ``error``, naming the data set ``source`` when given: an error of the family
        (PanelUnusable, MappingError, DirectionsError, …) itself, keeping its own id, place, hint and exit code
        (placed at ``source`` when it knows no place of its own); any other (a library's) as this error."""
        if isinstance(error, TieringError):
            return error if source is None else error.located(Where(file=str(source)))
        return cls(str(error) if source is None else f"{source}: {error}")


def _panels(register: str | None, real_data: str | None, unit: str | None = None, panel: str | None = None,
            mapping: str | None = None) -> dict[str, tuple[pd.DataFrame, PanelMapping]]:
    """Each data set given, read through its column mapping: {source: (panel, mapping)}."""
    if panel is not None and mapping is None:
        raise click.UsageError("--panel needs --mapping (a YAML column mapping, e.g. models/mappings/register.yaml)")
    given = [(f"register {register}", register, "register"), (f"real data {real_data}", real_data, REAL_DATA),
             (f"panel {panel}", panel, mapping)]
    given = [g for g in given if g[1] is not None]
    if not given:
        raise click.UsageError("give --register PATH, --panel PATH --mapping YAML and/or --real-data PATH")
    panels = {}
    try:
        for source, path, name in given:
            chosen = load_mapping(name)
            frame = read_panel(path, chosen, money_unit=unit)
            if frame.attrs.get("refused"):
                click.echo(f"{path}: {frame.attrs['refused']} 处问题使部分行未被读入（见 tiering 的 rejects 输出）；"
                           f"读入 {len(frame)} / {frame.attrs['rows_read']} 行", err=True)
            if frame.attrs.get("unread"):
                unread = "、".join(frame.attrs["unread"])
                click.echo(f"{path}: 列映射 {chosen.id} 未列出的列未读入（not read）：{unread}", err=True)
            panels[source] = (frame, chosen)
    except TieringError:
        raise  # a mapping's or register's own error, with its place and id
    except (OSError, ValueError) as error:  # the CSV reader's (pandas) own: a damaged or unreadable file
        raise UnusableInput.because(error) from error
    return panels


def _labelled(panel: pd.DataFrame, spec: LabelSpec, mapping: PanelMapping,
              source: str) -> tuple[pd.DataFrame, tuple[str, ...], dict[str, str]]:
    """Features, label and (for the boosted-tree reference) the raw amounts of every firm-year of the data set
    ``source``."""
    try:
        built = build_features(panel)
        label = growth_label(panel.reset_index(drop=True), spec)
    except ValueError as error:
        raise UnusableInput.because(error, source) from error
    raw = {f"{RAW_PREFIX}{f}": panel[f].astype("float64").to_numpy()
           for f in [*mapping.amounts, *mapping.counts] if f in panel.columns}
    data = built.frame.assign(label=label["label"].to_numpy(), **raw)
    return data, built.used, built.dropped


def _label_options(command: click.Command) -> click.Command:
    options = [
        click.option("--label-threshold", default=0.20, show_default=True, type=float,
                     help="高成长阈值（label-threshold）：年复合增长率，0.2 即 20%。"),
        click.option("--horizon", default=3, show_default=True, type=int,
                     help="前瞻年数（horizon）：标签向后看的年数。"),
        click.option("--measure", default="revenue", show_default=True, type=click.Choice(["revenue", "employees"]),
                     help="增长指标（measure）：revenue 营业收入或 employees 职工人数。"),
        click.option("--strict/--no-strict", default=False, show_default=True,
                     help="严格（strict）：增长须超过阈值（OECD 表述），而非达到即可。"),
        click.option("--size-floor", type=float, default=None,
                     help="规模下限（size-floor）：基年 --size-field 的最小值（OECD 为职工 10 人；"
                          "火炬中心瞪羚为收入 1000 万元），更小的企业不设标签。默认不设。"),
        click.option("--size-field", type=click.Choice(["employees", "revenue"]), default="employees",
                     show_default=True,
                     help="规模下限所用指标（size-field）：employees 职工人数或 revenue 营业收入（万元）。"),
        click.option("--test-from", type=int, default=None,
                     help="首个跨期检验年度（test-from），默认为有足够前期数据的每个年度。"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _test_years(data: pd.DataFrame, test_from: int | None) -> list[int] | None:
    if test_from is None:
        return None
    return sorted(int(y) for y in data["year"].unique() if y >= test_from)


def _spec(label_threshold: float, horizon: int, measure: str, strict: bool, size_floor: float | None,
          size_field: str) -> LabelSpec:
    try:
        return LabelSpec(measure, label_threshold, horizon, strict, size_floor, size_field)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


@click.group(cls=SuggestingGroup)
def model() -> None:
    """Growth-propensity scorecard: train, evaluate out of time, score with reasons."""


def _echo_evaluation(evaluation: OutOfTime) -> None:
    click.echo("out-of-time by test year\n" + format_table(evaluation.by_year))
    for year, why in evaluation.left_out.items():
        click.echo(f"test year {year} left out 未检验: {why}")
    click.echo("\nscorecard settings chosen for each test year by nested time splits of its own training cohorts\n"
               + evaluation.settings.to_string(index=False))
    click.echo("\nout-of-time mean over test years (lift = precision@k / base rate)\n"
               + format_table(evaluation.summary))
    auc = dict(zip(evaluation.summary["model"], evaluation.summary["roc_auc"], strict=True))
    shown = [name for name in DESCRIPTIONS if name in auc]
    if shown:
        click.echo("\nrankings the hidden truth allows 隐藏真值给出的排序:")
        for name in shown:
            click.echo(f"  {name}: {DESCRIPTIONS[name]}")
        for name in ("oracle", "oracle_no_transient", "oracle_no_potential"):
            if name in auc:
                click.echo(f"scorecard ROC AUC gap to {name} 评分卡与{name}之差: {auc[name] - auc['scorecard']:+.3f}")
    click.echo("\ncalibration of the scorecard, out of time (test cohorts pooled; decile 1 = lowest predicted; "
               "probabilities are relative to the training cohorts)\n" + format_table(evaluation.calibration))


@model.command()
@click.option("--register", type=click.Path(dir_okay=False), help="名录文件（register）：企业-年度面板。")
@_UNIT
@_PANEL
@_MAPPING
@click.option("--real-data", type=click.Path(dir_okay=False),
              help="上市公司基准数据（real-data）：改用该 CSV 训练。"
                   "Train on the listed-firm benchmark CSV instead (../shared/data/cn_machinery_listed_2000_2013.csv).")
@_DIRECTIONS
@_label_options
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="模型卡保存位置（out）。Where to save the card: models/NAME → models/NAME.card.yaml.")
def train(register: str | None, unit: str | None, panel: str | None, mapping: str | None, real_data: str | None,
          directions: str | None, label_threshold: float, horizon: int, measure: str, strict: bool,
          size_floor: float | None, size_field: str, test_from: int | None, out: str) -> None:
    """用每个有标签的年度训练评分卡，跨期检验并保存模型卡。

    Train the scorecard on every labelled cohort, evaluate it out of time and save its model card.

    Features whose declared direction (models/directions.yaml) does not hold in the training data are dropped;
    the card says which and why.

    Example:

        tiering model train --register firms.xlsx --out models/tianjin_2024
        tiering model train --panel firms.csv --mapping my_columns.yaml --out models/mine
    """
    spec = _spec(label_threshold, horizon, measure, strict, size_floor, size_field)
    panels = _panels(register, real_data, unit, panel, mapping)
    if len(panels) != 1:
        raise click.UsageError("train on one data set: give one of --register, --panel or --real-data")
    declarations = load_declarations(directions)
    (source, (frame, chosen)), = panels.items()
    progress = terminal_progress()
    if progress is not None:
        progress(FEATURES, 0, 1)
    data, used, dropped = _labelled(frame, spec, chosen, source)
    training = data[data["label"].notna()].reset_index(drop=True)
    if training["label"].nunique() != 2:
        raise UnusableInput(f"{source}: 只有 {len(training)} 行有标签且不含两类结果；"
                            f"需要至少 {horizon + 1} 个连续年份的数据")
    try:
        evaluation = out_of_time(data, used, test_years=_test_years(data, test_from), gap=horizon,
                                 declarations=declarations, progress=progress)
        metrics = {"out_of_time_summary": evaluation.summary.to_dict("records"),
                   "out_of_time_by_year": evaluation.by_year.to_dict("records"),
                   "calibration_out_of_time": evaluation.calibration.to_dict("records"),
                   "settings_by_test_year": evaluation.settings.to_dict("records"),
                   "test_years_left_out": evaluation.left_out}
    except ValueError as error:
        evaluation, metrics = None, {"out_of_time": f"not evaluated: {error}"}
    if progress is not None:
        progress(TRAINING, 0, 1)
    try:
        trained = train_scorecard(training, list(used), declarations)
    except ValueError as error:
        raise UnusableInput.because(error, source) from error
    model_ = trained.model
    absent = [a for a in AMOUNTS if a not in frame.columns]
    card = build_card(Path(out).name.removesuffix(".card.yaml"), model_, spec,
                      training[["uscc", "year", *model_.feature_names_, "label"]], dropped, source, metrics,
                      checks=trained.checks, directions_source=declarations.source, mapping=chosen.id,
                      selection=trained.selection, absent_amounts=absent)
    path = save_card(card, out)
    click.echo(f"{source}: {spec.describe()}; {len(training)} labelled firm-years, "
               f"cohorts {training['year'].min()}–{training['year'].max()}")
    click.echo(f"settings chosen by nested time splits (inner cohorts {list(trained.selection.inner_years)}): "
               f"{trained.selection.chosen.describe()}")
    click.echo(f"features used: {', '.join(model_.feature_names_)}")
    for feature, reason in {**dropped, **trained.dropped}.items():
        click.echo(f"feature dropped: {feature} — {reason}")
    if absent:
        click.echo("amounts the data lacks, so none of their ratios or changes 数据无此金额: "
                   + "、".join(str(AMOUNTS[a]["label"]) for a in absent))
    if evaluation is not None:
        click.echo("")
        _echo_evaluation(evaluation)
    else:  # said where it is read: a card never tested out of time must not pass for a tested one
        click.echo(f"\n未做跨期检验 out-of-time {metrics['out_of_time']}；这张模型卡的排序能力未经检验", err=True)
    click.echo("\npoints table\n" + format_table(model_.points_table()[["feature", "bin", "count", "event_rate",
                                                                          "points"]]))
    click.echo(f"\nbase points {model_.base_points_}; saved {path}")


def _hidden_truth(latent: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(hidden, latent) frames of a generated register: NAME.latent.csv and the NAME.hidden.csv beside it."""
    path = Path(latent)
    hidden = path.with_name(path.name.removesuffix(".latent.csv") + ".hidden.csv")
    if not path.name.endswith(".latent.csv") or not hidden.is_file():
        raise UnusableInput(f"{latent}: 找不到同目录的逐年隐藏真值 {hidden.name}",
                            hint="用 tiering datasets generate 重新生成名录（写出 NAME.latent.csv 和 NAME.hidden.csv）")
    try:
        return (pd.read_csv(hidden, dtype={"uscc": str}, encoding="utf-8-sig"),
                pd.read_csv(path, dtype={"uscc": str}, encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise UnusableInput.because(error, latent) from error


def _one_district(frame: pd.DataFrame) -> str | None:
    """The district every firm of a generated register is in, or None for the default mix of districts."""
    districts = frame["district"].dropna().unique() if "district" in frame.columns else []
    return str(districts[0]) if len(districts) == 1 else None


@model.command()
@click.option("--register", type=click.Path(dir_okay=False), help="名录文件（register）：企业-年度面板。")
@_UNIT
@_PANEL
@_MAPPING
@click.option("--real-data", type=click.Path(dir_okay=False),
              help="上市公司基准数据（real-data）：同时在该 CSV 上检验。")
@_DIRECTIONS
@click.option("--latent", type=click.Path(dir_okay=False), default=None,
              help="隐藏真值（latent），仅用于模拟数据。"
                   "Generated data only: the hidden truth NAME.latent.csv (NAME.hidden.csv must be beside it), "
                   "to add the best ranking it allows (oracle).")
@_label_options
def evaluate(register: str | None, unit: str | None, panel: str | None, mapping: str | None,
             real_data: str | None, directions: str | None, latent: str | None, label_threshold: float,
             horizon: int, measure: str, strict: bool, size_floor: float | None, size_field: str,
             test_from: int | None) -> None:
    """跨期检验：用 T − 前瞻年数及以前的年度训练，在年度 T 上检验，逐个 T。

    Out-of-time evaluation: train on cohorts ≤ T − horizon, test on cohort T, for every possible T.

    Prints ROC AUC, average precision, precision@10/15 and lift@10/15 for the scorecard, the monotone
    boosted challenger, a plain boosted-tree reference on the raw columns (boosted_raw) and the past-growth
    baselines, and the scorecard's out-of-time calibration table. With --latent (generated data), the
    rankings the hidden truth allows, each described in one line, and the scorecard's ROC AUC gap to oracle,
    to oracle_no_transient and to oracle_no_potential: oracle (the best: the probability of the label given the
    whole hidden state of the firm in the cohort year), oracle_no_transient (the best without the transient part
    of revenue: what a model that may not reward a bad year can at best reach), oracle_no_potential (the best
    from age and the persistent level alone, without the firm's hidden growth potential), oracle_forward
    (expected growth from potential, age and the transient part of revenue) and potential_only.

    Example:

        tiering model evaluate --real-data ../shared/data/cn_machinery_listed_2000_2013.csv --test-from 2005
    """
    spec = _spec(label_threshold, horizon, measure, strict, size_floor, size_field)
    declarations = load_declarations(directions)
    truth = _hidden_truth(latent) if latent is not None else None
    for source, (frame, chosen) in _panels(register, real_data, unit, panel, mapping).items():
        data, used, dropped = _labelled(frame, spec, chosen, source)
        try:
            oracles = None if truth is None else best_ranking(*truth, spec, _one_district(frame))
            evaluation = out_of_time(data, used, test_years=_test_years(data, test_from), gap=horizon,
                                     declarations=declarations, oracles=oracles, progress=terminal_progress())
        except ValueError as error:
            raise UnusableInput.because(error, source) from error
        click.echo(f"== {source}（列映射 {chosen.id}）: {spec.describe()}")
        click.echo(f"candidate features: {len(used)}; not computable: {', '.join(dropped) or 'none'}")
        _echo_evaluation(evaluation)
        click.echo("")


@model.command()
@click.option("--model", "model_path", required=True, type=click.Path(dir_okay=False),
              help="模型卡（model），由 tiering model train 写出。")
@click.option("--register", type=click.Path(dir_okay=False), help="名录文件（register）：要打分的名录。")
@_UNIT
@_PANEL
@_MAPPING
@click.option("--real-data", type=click.Path(dir_okay=False), help="上市公司基准数据（real-data）：改为给该 CSV 打分。")
@click.option("--year", type=int, default=None, help="年度（year）：要排序的年度，默认为名录中最近一年。")
@click.option("--top", type=int, default=15, show_default=True, help="列出的企业数（top）。")
def score(model_path: str, register: str | None, unit: str | None, panel: str | None, mapping: str | None,
          real_data: str | None, year: int | None, top: int) -> None:
    """按分数给一个年度的企业排序，附年度内百分位与主要理由。

    Rank one cohort's firms by points, with each firm's within-year percentile and top reasons.

    The score only orders firms that the rules found eligible; it never excludes a firm on its own.

    Example:

        tiering model score --model models/tianjin_2024.card.yaml --register firms.xlsx --year 2024
    """
    card = load_card(model_path)
    panels = _panels(register, real_data, unit, panel, mapping)
    if len(panels) != 1:
        raise click.UsageError("score one data set: give one of --register, --panel or --real-data")
    (source, (frame, _)), = panels.items()
    card.check_features(frame)  # a FeatureMismatchError of the family: its own id (model-features) and hint
    built = build_features(frame, only=tuple(card.features)).frame
    cohort = built[built["year"] == (year if year is not None else built["year"].max())].reset_index(drop=True)
    if cohort.empty:
        raise UnusableInput(f"{source}: 没有 {year} 年的数据")
    scorecard = card.scorecard()
    notes = scorecard.missing_notes(cohort).to_numpy()
    reasons = scorecard.top_reasons(cohort).to_numpy()
    ranked = cohort[["uscc", "year"]].assign(
        score=scorecard.score(cohort).to_numpy(),
        reasons=["；".join(t for t in pair if t) for pair in zip(reasons, notes, strict=True)])
    ranked["percentile"] = ranked["score"].rank(pct=True, method="max").mul(100).round().astype("int64")
    ranked = ranked.sort_values(["score", "uscc"], ascending=[False, True], kind="stable").head(top)
    click.echo(ranked[["uscc", "year", "score", "percentile", "reasons"]].to_string(index=False))


main.add_command(model)
