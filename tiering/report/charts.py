"""Charts for the HTML report, drawn with matplotlib in the bundled CJK font and returned as SVG data URIs.

SVG text is written as glyph outlines (``svg.fonttype = 'path'``), so a chart shows its Chinese labels in any
browser without the font installed.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from tiering.output.font import FONT_FAMILY, cjk_font_path  # noqa: E402

_COLOURS = ["#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"]


def _style() -> None:
    font_manager.fontManager.addfont(str(cjk_font_path()))
    plt.rcParams.update({"font.family": FONT_FAMILY, "svg.fonttype": "path", "axes.unicode_minus": False,
                         "font.size": 10, "axes.spines.top": False, "axes.spines.right": False})


def _data_uri(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def pyramid(levels: Sequence[tuple[str, int]], title: str) -> str:
    """A tier pyramid, bottom level first in ``levels`` (level, firms whose highest level it is).

    Each firm counts once, at the highest level it reaches: a bar is as wide as the firms whose highest level
    it is, and its label says exactly that number.
    """
    _style()
    fig, ax = plt.subplots(figsize=(8.5, 0.6 * len(levels) + 1.0))
    counts = [n for _, n in levels]
    top = max(max(counts, default=0), 1)
    for i, n in enumerate(counts):
        shown = max(float(n), top * 0.01)
        ax.barh(i, shown, left=-shown / 2, color=_COLOURS[min(i, len(_COLOURS) - 1)], height=0.85,
                edgecolor="white")
        ax.text(top * 0.52, i, f"{n} 家", ha="left", va="center", fontsize=9, color="#333")
    ax.set_xlim(-top / 2 * 1.02, top * 0.75)
    ax.set_yticks(range(len(levels)), [label for label, _ in levels])
    ax.tick_params(axis="y", length=0)
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(title)
    return _data_uri(fig)


def money_label(value: float) -> str:
    """An amount in 万元 as an axis reads it: 500万元, 1亿元, 2.5亿元."""
    if abs(value) >= 10_000:
        return f"{value / 10_000:g}亿元"
    return f"{value:g}万元"


def _log_money_axis(ax: plt.Axes, low: float, high: float) -> None:
    """A log-scale x axis from ``low`` to ``high`` 万元 with ticks at 1, 2, 5 × powers of ten, labelled 万元/亿元."""
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ticks = [m * 10.0 ** e for e in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
             for m in (1, 2, 5) if low <= m * 10.0 ** e <= high]
    if len(ticks) > 7:
        ticks = [t for t in ticks if f"{t:g}".lstrip("0.").startswith("1")]
    ax.set_xticks(ticks, [money_label(t) for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())


def histogram(values: np.ndarray, thresholds: Sequence[float], title: str, xlabel: str, percent: bool,
              unit: str = "") -> str:
    """Distribution of one indicator with the threshold(s) drawn as dashed red lines.

    Amounts in 万元 spread over orders of magnitude, so their axis is logarithmic (labelled 万元/亿元) and
    firms at zero or below are counted in the title; the thresholds are named in the title too, never over
    the bars.
    """
    _style()
    fig, ax = plt.subplots(figsize=(6.2, 3.6))
    shown = values * 100 if percent else values
    marks = [t * 100 if percent else t for t in thresholds]
    finite = shown[np.isfinite(shown)]
    money = unit == "万元"
    shown_unit = "%" if percent else unit
    extra = ""
    if money:
        positive = finite[finite > 0]
        extra = f"，{len(finite) - len(positive)} 家为0" if len(positive) < len(finite) else ""
        if len(positive):
            low = min(positive.min(), *marks) * 0.8 if marks else positive.min() * 0.8
            high = max(positive.max(), *marks) * 1.25 if marks else positive.max() * 1.25
            ax.hist(positive, bins=np.geomspace(low, high, 31), color="#6baed6", edgecolor="white")
            _log_money_axis(ax, low, high)
    elif len(finite):
        hi = np.nanpercentile(finite, 99) if len(finite) > 20 else finite.max()
        hi = max(hi, *marks) * 1.05 if marks else hi
        ax.hist(np.clip(finite, None, hi), bins=30, range=(min(0.0, finite.min()), hi), color="#6baed6",
                edgecolor="white")
    for m in marks:
        ax.axvline(m, color="#cb181d", linestyle="--", linewidth=1.4)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    below = int(sum(1 for v in finite if marks and v < min(marks)))
    limits = ("；红色虚线为门槛 " + " / ".join(money_label(m) if money else f"{m:g}{shown_unit}" for m in marks)
              if marks else "")
    ax.set_title(f"{title}\n（{len(finite)} 家有数据{extra}，{below} 家低于最低门槛{limits}）", fontsize=9.5)
    ax.set_xlabel(xlabel + ("，对数刻度" if money else ""))
    ax.set_ylabel("企业数")
    return _data_uri(fig)


def transitions(matrix: pd.DataFrame, title: str) -> str:
    """A heat map of firm counts from last year's highest tier (rows) to this year's (columns)."""
    _style()
    fig, ax = plt.subplots(figsize=(1.0 * len(matrix.columns) + 2.6, 0.5 * len(matrix.index) + 1.6))
    data = matrix.to_numpy(dtype=float)
    ax.imshow(np.log1p(data), cmap="Blues", aspect="auto")
    for (r, c), n in np.ndenumerate(data):
        if n:
            ax.text(c, r, f"{n:g}", ha="center", va="center", fontsize=9,
                    color="white" if n > data.max() * 0.5 else "#08306b")
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=30, ha="right")
    ax.set_yticks(range(len(matrix.index)), matrix.index)
    ax.set_xlabel(matrix.columns.name or "")
    ax.set_ylabel(matrix.index.name or "")
    ax.set_title(title)
    return _data_uri(fig)


def progress(labels: Sequence[str], counts: Sequence[float], targets: Sequence[float], title: str) -> str:
    """Completion of each plan target in percent (count ÷ target), with the 100 % line and "count / target" labels."""
    _style()
    fig, ax = plt.subplots(figsize=(8.5, 0.5 * len(labels) + 1.3))
    y = np.arange(len(labels))
    done = np.asarray(counts, dtype=float) / np.asarray(targets, dtype=float) * 100
    ax.barh(y, np.nan_to_num(np.minimum(done, 100)), color="#2171b5", height=0.55)
    ax.axvline(100, color="#cb181d", linestyle="--", linewidth=1.2)
    for i, (n, t, d) in enumerate(zip(counts, targets, done, strict=True)):
        text = "无法计数" if np.isnan(n) else f"{n:g} / {t:g}（{d:.1f}%）"
        ax.text(min(np.nan_to_num(d), 100) + 1.5, i, text, va="center", fontsize=9)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 135)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("完成率（%，实有 ÷ 目标）")
    ax.set_title(title)
    return _data_uri(fig)


def standing(labels: Sequence[str], technical: Sequence[float], growth: Sequence[float], combined: Sequence[float],
             title: str) -> str:
    """The selected firms' standing: technical and growth scores side by side, the combined score marked."""
    _style()
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(labels) + 1.4))
    y = np.arange(len(labels))
    ax.barh(y - 0.18, technical, height=0.36, color="#6baed6", label="技术水平")
    ax.barh(y + 0.18, growth, height=0.36, color="#fd8d3c", label="发展潜力")
    ax.scatter(combined, y, marker="D", color="#08306b", zorder=3, label="综合得分")
    for i, c in enumerate(combined):
        ax.text(101, i, f"{c:.1f}", va="center", fontsize=9)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 108)
    ax.set_xlabel("得分（候选池内百分位加权，0–100）")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    ax.set_title(title, pad=28)
    return _data_uri(fig)
