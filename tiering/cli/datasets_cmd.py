"""``tiering datasets``: generate calibrated synthetic registers to work on, or copy out the bundled samples."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pandas as pd

from tiering.bundled import bundled
from tiering.cli import SuggestingGroup, main
from tiering.cli.progress import terminal_progress
from tiering.datasets import calibration_report
from tiering.datasets.calibration import MEASURED_COLUMNS
from tiering.datasets.generate import GeneratedBlocks, generate_blocks
from tiering.datasets.writer import write_register_blocks

_YEARS_RE = re.compile(r"^\s*(\d{4})\s*[-–~]\s*(\d{4})\s*$|^\s*(\d{4})\s*$")


def _parse_years(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int]:
    match = _YEARS_RE.match(value)
    if not match:
        raise click.BadParameter(f"应写成 2015-2025（起止年度，含两端），实为 {value!r}")
    first, last = (int(match.group(1)), int(match.group(2))) if match.group(1) else (int(match.group(3)),) * 2
    if last < first:
        raise click.BadParameter(f"结束年度 {last} 早于起始年度 {first}")
    return first, last


def latent_path(out: Path) -> Path:
    """Where the hidden truth of a register written to ``out`` goes: beside it, ``<stem>.latent.csv``."""
    return out.with_name(f"{out.stem}.latent.csv")


def hidden_path(out: Path) -> Path:
    """Where the hidden state of each firm-year of a register written to ``out`` goes: ``<stem>.hidden.csv``."""
    return out.with_name(f"{out.stem}.hidden.csv")


@click.group(cls=SuggestingGroup)
def datasets() -> None:
    """Synthetic registers calibrated to the published district figures."""


@datasets.command()
@click.option("--firms", type=click.IntRange(min=1), required=True,
              help="企业数（firms）：最后一年名录上的企业数；更早退出的企业另外加上。"
                   "Firms on the register in the last year; firms that exited earlier come on top.")
@click.option("--years", "years", callback=_parse_years, default="2015-2025", show_default=True,
              help="年度范围（years）：首末会计年度（含），如 2015-2025。"
                   "First and last fiscal year, inclusive, e.g. 2015-2025.")
@click.option("--seed", type=int, required=True, help="随机种子（seed）：同一种子生成同一名录。")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="输出名录文件（out），后缀决定格式。"
                   "Register file to write; the suffix picks .xlsx, .csv or .parquet.")
@click.option("--district", default=None,
              help="区县（district）：全部企业放在一个区县。"
                   "Put every firm in one district: 东丽区, 宝坻区, 蓟州区 (蓟县), 包头市. "
                   "Default: a mix of the three Tianjin districts.")
def generate(firms: int, years: tuple[int, int], seed: int, out: Path, district: str | None) -> None:
    """生成带随机种子的模拟名录，并在旁边写出其隐藏真值（<stem>.latent.csv 与逐年的 <stem>.hidden.csv）。

    Generate a seeded register and write its hidden truth beside it: <stem>.latent.csv (one row per firm) and
    <stem>.hidden.csv (the hidden state of revenue, one row per firm-year).

    The last year reproduces the 东丽区 figures of the seed documents (revenue classes, R&D 4.86 % of revenue,
    科技人员 25.92 % of staff, patents); the summary prints that comparison.

    The register is made and written 65,536 firms at a time, so memory stays bounded whatever --firms is
    (1M firms × 4 years: see README); an .xlsx sheet holds at most 1,048,575 firm-years.

    Example:

    \b
        tiering datasets generate --firms 300 --years 2015-2025 --seed 42 --out datasets/generated/panel_s42.csv
    """
    if out.suffix.lower() not in (".xlsx", ".csv", ".parquet"):
        raise click.BadParameter(f"{out.name} 应以 .xlsx、.csv 或 .parquet 结尾", param_hint="--out")
    generated = generate_blocks(firms, years, seed, district, terminal_progress())
    first, last = years
    latent, hidden = latent_path(out), hidden_path(out)
    measured: list[pd.DataFrame] = []
    write_register_blocks(_panels(generated, hidden, last, measured), out, rows=generated.rows)
    generated.latent.to_csv(latent, index=False, encoding="utf-8-sig")
    panel = pd.concat(measured, ignore_index=True)
    click.echo(f"wrote {out}, {latent} and {hidden}")
    click.echo(
        f"firms: {generated.firms:,} ({len(panel):,} in {last}); "
        f"firm-years: {generated.rows:,}; years: {first}–{last}"
    )
    report = calibration_report(panel, last)
    click.echo(f"calibration, {last} against the published figures (counts scaled to the firms of {last}):")
    for row in report.itertuples(index=False):
        click.echo(
            f"  {row.label:<40} published {row.published:>12,.2f}  generated {row.generated:>12,.2f}  "
            f"{row.rel_deviation:+7.1%}  {row.unit}"
        )


def _panels(
    generated: GeneratedBlocks, hidden: Path, last: int, measured: list[pd.DataFrame]
) -> Iterator[pd.DataFrame]:
    """The register's blocks, one at a time for the writer; on the way, each block's hidden state is appended to
    ``hidden`` and its rows of the ``last`` year, in the columns the calibration report reads, to ``measured``:
    only those stay in memory."""
    with hidden.open("w", encoding="utf-8-sig", newline="") as handle:
        for k, block in enumerate(generated.blocks):
            block.hidden.to_csv(handle, index=False, header=k == 0)
            rows = block.panel[block.panel["year"] == last]
            measured.append(rows[["year", *MEASURED_COLUMNS]])
            yield block.panel
            del block, rows  # not alive while the next block is made


SAMPLES = ("sample_register.xlsx", "sample_register_with_errors.xlsx")
"""The sample registers shipped with tiering (in a checkout: datasets/)."""


@datasets.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
def sample(folder: Path) -> None:
    """把自带的样例名录复制到 FOLDER（默认为当前文件夹）。

    Copy the bundled sample registers into FOLDER (default: here), e.g. to try an installed tiering.

    Example:

    \b
        tiering datasets sample . && tiering classify sample_register.xlsx --year 2025 --out out/sample-2025
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name in SAMPLES:
        target = folder / name
        if target.exists():
            raise click.ClickException(f"{target} 已存在，未覆盖 already exists, not overwritten")
        shutil.copyfile(bundled("datasets", name), target)
        click.echo(f"写出 wrote {target}")


main.add_command(datasets)
