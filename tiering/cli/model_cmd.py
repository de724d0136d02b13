"""``tiering model``: train, evaluate (out of time) and apply the growth-propensity scorecard."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from tiering.cli import main
from tiering.cli.exit_codes import UNUSABLE_INPUT
from tiering.growth.card import build_card, load_card, save_card
from tiering.growth.features import build_features
from tiering.growth.labels import LabelSpec, growth_label
from tiering.growth.realdata import load_cn_machinery
from tiering.growth.scorecard import FeatureMismatchError, Scorecard
from tiering.growth.validation import format_table, out_of_time
from tiering.register import RegisterError, load_register

_UNIT = click.option("--unit", type=click.Choice(["万元", "元"]), default=None,
                     help="Unit of register money columns whose header names none.")


class UnusableInput(click.ClickException):
    """An input file or model card that cannot be used at all (exit code 3)."""

    exit_code = UNUSABLE_INPUT


def _read_register(path: str, unit: str | None) -> pd.DataFrame:
    """The register's accepted firm-years as an internal panel frame; refused rows are counted on stderr."""
    try:
        register = load_register(path, money_unit=unit)
    except RegisterError as error:
        raise UnusableInput(str(error)) from error
    if register.refusals:
        click.echo(f"{path}: {len(register.refusals)} 处问题使部分行未被读入（见 tiering 的 rejects 输出）；"
                   f"读入 {len(register.frame)} / {register.rows_read} 行", err=True)
    return register.frame


def _panels(register: str | None, real_data: str | None, unit: str | None = None) -> dict[str, pd.DataFrame]:
    if register is None and real_data is None:
        raise click.UsageError("give --register PATH and/or --real-data PATH")
    panels = {}
    try:
        if register is not None:
            panels[f"register {register}"] = _read_register(register, unit)
        if real_data is not None:
            panels[f"real data {real_data}"] = load_cn_machinery(real_data)
    except (OSError, ValueError) as error:
        raise UnusableInput(str(error)) from error
    return panels


def _labelled(panel: pd.DataFrame, spec: LabelSpec) -> tuple[pd.DataFrame, tuple[str, ...], dict[str, str]]:
    try:
        built = build_features(panel)
        label = growth_label(panel.reset_index(drop=True), spec)
    except ValueError as error:
        raise UnusableInput(str(error)) from error
    return built.frame.assign(label=label["label"].to_numpy()), built.used, built.dropped


def _label_options(command: click.Command) -> click.Command:
    options = [
        click.option("--label-threshold", default=0.20, show_default=True, type=float,
                     help="Annual compound growth rate that counts as high growth (0.2 = 20 %)."),
        click.option("--horizon", default=3, show_default=True, type=int, help="Years ahead the label looks."),
        click.option("--measure", default="revenue", show_default=True, type=click.Choice(["revenue", "employees"]),
                     help="What must grow."),
        click.option("--strict/--no-strict", default=False, show_default=True,
                     help="Growth must exceed the threshold (OECD wording) instead of reaching it."),
        click.option("--size-floor", type=float, default=None,
                     help="Minimum employees in the base year (OECD: 10); smaller firms get no label."),
        click.option("--test-from", type=int, default=None,
                     help="First out-of-time test cohort (default: every cohort with enough earlier data)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _test_years(data: pd.DataFrame, test_from: int | None) -> list[int] | None:
    if test_from is None:
        return None
    return sorted(int(y) for y in data["year"].unique() if y >= test_from)


def _spec(label_threshold: float, horizon: int, measure: str, strict: bool, size_floor: float | None) -> LabelSpec:
    try:
        return LabelSpec(measure, label_threshold, horizon, strict, size_floor)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


@click.group()
def model() -> None:
    """Growth-propensity scorecard: train, evaluate out of time, score with reasons."""


@model.command()
@click.option("--register", type=click.Path(dir_okay=False), help="Register file (panel of firms and years).")
@_UNIT
@click.option("--real-data", type=click.Path(dir_okay=False),
              help="Train on the listed-firm benchmark CSV instead (../shared/data/cn_machinery_listed_2000_2013.csv).")
@_label_options
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Where to save the card: models/NAME → models/NAME.card.yaml.")
def train(register: str | None, unit: str | None, real_data: str | None, label_threshold: float, horizon: int,
          measure: str, strict: bool, size_floor: float | None, test_from: int | None, out: str) -> None:
    """Train the scorecard on every labelled cohort, evaluate it out of time and save its model card.

    Example:

        tiering model train --register firms.parquet --out models/tianjin_2024
    """
    spec = _spec(label_threshold, horizon, measure, strict, size_floor)
    if register is not None and real_data is not None:
        raise click.UsageError("train on one data set: give --register or --real-data, not both")
    (source, panel), = _panels(register, real_data, unit).items()
    data, used, dropped = _labelled(panel, spec)
    training = data[data["label"].notna()].reset_index(drop=True)
    if training["label"].nunique() != 2:
        raise UnusableInput(f"{source}: 只有 {len(training)} 行有标签且不含两类结果；"
                            f"需要至少 {horizon + 1} 个连续年份的数据")
    try:
        evaluation = out_of_time(data, used, test_years=_test_years(data, test_from), gap=horizon)
        metrics = {"out_of_time_summary": evaluation.summary.to_dict("records"),
                   "out_of_time_by_year": evaluation.by_year.to_dict("records")}
    except ValueError as error:
        evaluation, metrics = None, {"out_of_time": f"not evaluated: {error}"}
    model_ = Scorecard(features=list(used)).fit(training[["uscc", "year", *used]], training["label"])
    card = build_card(Path(out).name.removesuffix(".card.yaml"), model_, spec,
                      training[["uscc", "year", *used, "label"]], dropped, source, metrics)
    path = save_card(card, out)
    click.echo(f"{source}: {spec.describe()}; {len(training)} labelled firm-years, "
               f"cohorts {training['year'].min()}–{training['year'].max()}")
    click.echo(f"features used: {', '.join(used)}")
    for feature, reason in dropped.items():
        click.echo(f"feature dropped: {feature} — {reason}")
    if evaluation is not None:
        click.echo("\nout-of-time by test year\n" + format_table(evaluation.by_year))
        click.echo("\nout-of-time mean over test years\n" + format_table(evaluation.summary))
    click.echo("\npoints table\n" + format_table(model_.points_table()[["feature", "bin", "count", "event_rate",
                                                                          "points"]]))
    click.echo(f"\nbase points {model_.base_points_}; saved {path}")


@model.command()
@click.option("--register", type=click.Path(dir_okay=False), help="Register file (panel of firms and years).")
@_UNIT
@click.option("--real-data", type=click.Path(dir_okay=False),
              help="Also evaluate on the listed-firm benchmark CSV.")
@_label_options
def evaluate(register: str | None, unit: str | None, real_data: str | None, label_threshold: float,
             horizon: int, measure: str, strict: bool, size_floor: float | None, test_from: int | None) -> None:
    """Out-of-time evaluation: train on cohorts ≤ T − horizon, test on cohort T, for every possible T.

    Prints ROC AUC, average precision, precision@10/15 and lift for the scorecard, the boosted challenger
    and the past-growth baselines.

    Example:

        tiering model evaluate --register firms.parquet --real-data ../shared/data/cn_machinery_listed_2000_2013.csv
    """
    spec = _spec(label_threshold, horizon, measure, strict, size_floor)
    for source, panel in _panels(register, real_data, unit).items():
        data, used, dropped = _labelled(panel, spec)
        try:
            evaluation = out_of_time(data, used, test_years=_test_years(data, test_from), gap=horizon)
        except ValueError as error:
            raise UnusableInput(f"{source}: {error}") from error
        click.echo(f"== {source}: {spec.describe()}")
        click.echo(f"features used: {', '.join(used)}; dropped: {', '.join(dropped) or 'none'}")
        click.echo("out-of-time by test year\n" + format_table(evaluation.by_year))
        click.echo("out-of-time mean over test years\n" + format_table(evaluation.summary) + "\n")


@model.command()
@click.option("--model", "model_path", required=True, type=click.Path(dir_okay=False),
              help="A model card written by `tiering model train`.")
@click.option("--register", type=click.Path(dir_okay=False), help="Register file to score.")
@_UNIT
@click.option("--real-data", type=click.Path(dir_okay=False), help="Score the listed-firm benchmark CSV instead.")
@click.option("--year", type=int, default=None, help="Cohort year to rank (default: the latest in the register).")
@click.option("--top", type=int, default=15, show_default=True, help="How many firms to list.")
def score(model_path: str, register: str | None, unit: str | None, real_data: str | None, year: int | None,
          top: int) -> None:
    """Rank one cohort's firms by points, with each firm's within-year percentile and top reasons.

    The score only orders firms that the rules found eligible; it never excludes a firm on its own.

    Example:

        tiering model score --model models/tianjin_2024.card.yaml --register firms.parquet --year 2024
    """
    try:
        card = load_card(model_path)
    except (OSError, ValueError) as error:
        raise UnusableInput(str(error)) from error
    if register is not None and real_data is not None:
        raise click.UsageError("score one data set: give --register or --real-data, not both")
    (source, panel), = _panels(register, real_data, unit).items()
    try:
        card.check_features(panel)
    except FeatureMismatchError as error:
        raise UnusableInput(str(error)) from error
    frame = build_features(panel, only=tuple(card.features)).frame
    cohort = frame[frame["year"] == (year if year is not None else frame["year"].max())].reset_index(drop=True)
    if cohort.empty:
        raise UnusableInput(f"{source}: 没有 {year} 年的数据")
    scorecard = card.scorecard()
    ranked = cohort[["uscc", "year"]].assign(
        score=scorecard.score(cohort).to_numpy(),
        reasons=scorecard.top_reasons(cohort).to_numpy())
    ranked["percentile"] = ranked["score"].rank(pct=True, method="max").mul(100).round().astype("int64")
    ranked = ranked.sort_values(["score", "uscc"], ascending=[False, True], kind="stable").head(top)
    click.echo(ranked[["uscc", "year", "score", "percentile", "reasons"]].to_string(index=False))


main.add_command(model)
