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
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from tiering.report.font import FONT_FAMILY, cjk_font_path  # noqa: E402

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
    """A tier pyramid: one centred bar per level, bottom level first in ``levels``, widths by firm count."""
    _style()
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(levels) + 1.2))
    top = max([n for _, n in levels] + [1])
    for i, (label, n) in enumerate(levels):
        colour = _COLOURS[min(i, len(_COLOURS) - 1)]
        ax.barh(i, max(n, top * 0.004), left=-max(n, top * 0.004) / 2, color=colour, height=0.8, edgecolor="white")
        ax.text(0, i, f"{label}  {n} 家", ha="center", va="center", fontsize=10,
                color="white" if i >= 3 else "#08306b")
    ax.set_xlim(-top / 2 * 1.05, top / 2 * 1.05)
    ax.set_yticks([])
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(title)
    return _data_uri(fig)


def histogram(values: np.ndarray, thresholds: Sequence[float], title: str, xlabel: str, percent: bool) -> str:
    """Distribution of one indicator with the threshold(s) drawn as dashed red lines and labelled."""
    _style()
    fig, ax = plt.subplots(figsize=(6.2, 3.4))
    shown = values * 100 if percent else values
    marks = [t * 100 if percent else t for t in thresholds]
    finite = shown[np.isfinite(shown)]
    if len(finite):
        hi = np.nanpercentile(finite, 99) if len(finite) > 20 else finite.max()
        hi = max(hi, *marks) * 1.05 if marks else hi
        ax.hist(np.clip(finite, None, hi), bins=30, range=(min(0.0, finite.min()), hi), color="#6baed6",
                edgecolor="white")
    for m in marks:
        ax.axvline(m, color="#cb181d", linestyle="--", linewidth=1.4)
        ax.text(m, ax.get_ylim()[1] * 0.95, f" 门槛 {m:g}{'%' if percent else ''}", color="#cb181d", va="top",
                fontsize=9)
    below = int(sum(1 for v in finite if marks and v < min(marks)))
    ax.set_title(f"{title}\n（{len(finite)} 家有数据，{below} 家低于最低门槛）", fontsize=10)
    ax.set_xlabel(xlabel)
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
    """Horizontal bars of counts against target markers, one row per plan target."""
    _style()
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * len(labels) + 1.3))
    y = np.arange(len(labels))
    ax.barh(y, targets, color="#eeeeee", edgecolor="#999999", label="目标")
    ax.barh(y, np.nan_to_num(np.asarray(counts, dtype=float)), color="#2171b5", height=0.5, label="实有")
    for i, (n, t) in enumerate(zip(counts, targets, strict=True)):
        ax.text(t, i, f"  {'—' if np.isnan(n) else f'{n:g}'} / {t:g}", va="center", fontsize=9)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("企业数（家）")
    ax.legend(loc="lower right", frameon=False)
    ax.set_title(title)
    return _data_uri(fig)
