"""The best ranking a generated panel's hidden state allows: the yardstick for a growth model on generated data.

A model sees a firm's register up to year t. The generator knows more at t: the firm's growth potential, the
persistent level of its revenue and the transient deviation of this year's revenue from that level. What it
does not know at t are the shocks still to come. Two rankings of (firm, t) follow from that:

* ``oracle_forward``, the expected log revenue growth t → t + h from the generator's law read forwards (each year
  drift(age) + growth potential + a shock; the transient is AR(1) with ρ = TRANSIENT_RHO)::

      Σ_{k<h} drift(age + 1 + k) + h · potential + (ρ^h − 1) · transient

  The registration year's short base (``part_year`` in the hidden state) is left out: the label annualises the
  base-year revenue of that year (:mod:`tiering.growth.labels`), so the part year cancels, but for the
  difference between the generator's share of the year (by month, ``(13 − month − day/31)/12``) and the label's
  (by day), small except for firms registered in the last days of December.

  Future shocks and transient innovations are independent of this state and their variance is the same for
  every firm, so ranking by this mean is ranking by P(label | potential, age, transient).
* ``oracle``, the best ranking: P(label | the whole hidden state at t). Revenue paths are built backwards from
  each firm's calibrated snapshot size, so the persistent level at t also tells something about the shocks still
  to come (a firm small today for the size it ends at will grow), which the closed form leaves out. A logistic
  regression of the label on (oracle_forward, log_level) is fitted on independent generated panels (seeds
  REFERENCE_SEEDS, REFERENCE_SCALE times the firms, same years and districts), never on the panel evaluated.

* ``oracle_no_transient``, the best ranking a model that may not reward a bad year can reach: the same fit on the
  hidden state without the transient, P(label | potential, age, persistent level). Most of what
  ``oracle`` knows beyond it is that a firm whose revenue is below its level this year will partly recover; a model
  sees that only as "revenue fell", and issue 15 forbids choosing a firm because it shrinks, so the gap between
  the two is what an admissible model has to give up.
* ``oracle_no_potential``, the best ranking without the firm's growth potential: the same fit on age and the
  persistent level alone, P(label | age, persistent level), both known exactly. A register shows size and age
  well; the potential is a trait the generator keeps hidden (it drives revenue growth, and less strongly R&D,
  venture rounds and competition awards through the firm's innovation). The gap from this ranking up to
  ``oracle_no_transient`` is what knowing each firm's potential is worth; a model whose features estimate the
  potential no better than size and age do cannot close it.

The old yardstick, ranking by growth potential alone, ignored the age premium every model sees and the mean
reversion of revenue; models beat it, so it was no upper bound. It is kept as ``potential_only``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from tiering.datasets.generate import HIDDEN_COLUMNS, generate_panel
from tiering.datasets.revenue import TRANSIENT_RHO, drift
from tiering.errors import PanelUnusable
from tiering.growth.labels import LabelSpec, growth_label

REFERENCE_SEEDS = (1_000_001, 1_000_002, 1_000_003)
REFERENCE_SCALE = 10
ORACLE_COLUMNS = ("oracle", "oracle_no_transient", "oracle_no_potential", "oracle_forward", "potential_only")
DESCRIPTIONS: dict[str, str] = {
    "oracle": "隐藏状态允许的最佳排序 best ranking the whole hidden state allows",
    "oracle_no_transient": "不含暂时波动的最佳排序 best ranking without the transient (a bad year may not be "
                           "rewarded): potential, age, persistent level",
    "oracle_no_potential": "不知增长潜力的最佳排序 best ranking without the growth potential: age and persistent "
                           "level only, both known exactly",
    "oracle_forward": "按生成规律算出的预期增长 expected growth from the generator's law, closed form",
    "potential_only": "仅按增长潜力 the hidden growth potential alone (the old yardstick, no upper bound)",
}
"""One line per ranking, printed beside the figures by ``model evaluate``."""


def forward_expectation(hidden: pd.DataFrame, potential: pd.Series, horizon: int,
                        transient: bool = True) -> np.ndarray:
    """Expected log revenue growth over ``horizon`` years of each row of ``hidden`` (see the module docstring).

    ``potential`` is the firm's growth potential, one per row of ``hidden``. With ``transient=False`` the
    recovery of this year's transient deviation is left out: what is expected of the firm's persistent path.
    """
    age = hidden["age"].to_numpy("float64")
    total = sum(drift(age + 1 + k) for k in range(horizon))
    expected = total + horizon * potential.to_numpy("float64")
    if transient:
        expected = expected + (TRANSIENT_RHO ** horizon - 1.0) * hidden["transient"].to_numpy("float64")
    return expected


def _state(hidden: pd.DataFrame, latent: pd.DataFrame, horizon: int) -> pd.DataFrame:
    absent = [c for c in HIDDEN_COLUMNS if c not in hidden.columns]
    absent += [f"latent:{c}" for c in ("uscc", "growth_potential") if c not in latent.columns]
    if absent:
        raise PanelUnusable(f"隐藏真值缺少列 {absent}", hint="请用 tiering datasets generate 重新生成名录及其隐藏真值")
    by_firm = latent.assign(uscc=latent["uscc"].astype(str)).drop_duplicates("uscc").set_index("uscc")
    potential = hidden["uscc"].astype(str).map(by_firm["growth_potential"])
    if potential.isna().any():
        first = hidden.loc[potential.isna(), "uscc"].iloc[0]
        raise PanelUnusable(f"隐藏真值与名录不对应：企业 {first} 没有 growth_potential")
    return pd.DataFrame({"uscc": hidden["uscc"].astype(str).to_numpy(), "year": hidden["year"].to_numpy(),
                         "oracle_forward": forward_expectation(hidden, potential, horizon),
                         "persistent_forward": forward_expectation(hidden, potential, horizon, transient=False),
                         "drift_forward": forward_expectation(hidden, pd.Series(0.0, index=hidden.index), horizon,
                                                            transient=False),
                         "log_level": hidden["log_level"].to_numpy("float64"),
                         "potential_only": potential.to_numpy("float64")})


def _reference(firms: int, years: tuple[int, int], district: str | None, spec: LabelSpec) -> pd.DataFrame:
    """Hidden state and label of independent generated panels, to learn P(label | hidden state)."""
    parts = []
    for seed in REFERENCE_SEEDS:
        generated = generate_panel(firms * REFERENCE_SCALE, years, seed, district)
        state = _state(generated.hidden, generated.latent, spec.horizon)
        parts.append(state.assign(label=growth_label(generated.panel.reset_index(drop=True), spec)["label"]
                                  .to_numpy()))
    reference = pd.concat(parts, ignore_index=True)
    return reference[reference["label"].notna() & reference["oracle_forward"].notna()]


def _fitted(reference: pd.DataFrame, state: pd.DataFrame, inputs: list[str]) -> np.ndarray:
    """P(label | ``inputs``) learnt on ``reference``, as a logit for every row of ``state`` (NaN where unknown)."""
    model = LogisticRegression().fit(reference[inputs], reference["label"])
    known = state[inputs].notna().all(axis=1).to_numpy()
    out = np.full(len(state), np.nan)
    out[known] = model.decision_function(state.loc[known, inputs])
    return out


def best_ranking(hidden: pd.DataFrame, latent: pd.DataFrame, spec: LabelSpec | None = None,
                 district: str | None = None) -> pd.DataFrame:
    """uscc, year and the rankings of ``ORACLE_COLUMNS`` of every row of ``hidden``.

    ``hidden`` and ``latent`` are a generated panel's hidden truth (:class:`GeneratedPanel`, or the files
    ``tiering datasets generate`` writes beside the register); ``district`` must be the one it was generated
    for (None: the default Tianjin mix). The label must be revenue growth: the generator's law is about revenue.
    """
    spec = spec or LabelSpec()
    if spec.measure != "revenue":
        raise PanelUnusable(f"隐藏真值只描述营业收入的增长，无法为 {spec.measure} 标签给出最佳排序")
    state = _state(hidden, latent, spec.horizon)
    years = (int(state["year"].min()), int(state["year"].max()))
    firms = int((state["year"] == years[1]).sum())
    reference = _reference(firms, years, district, spec)
    return state[["uscc", "year"]].assign(
        oracle=_fitted(reference, state, ["oracle_forward", "log_level"]),
        oracle_no_transient=_fitted(reference, state, ["persistent_forward", "log_level"]),
        oracle_no_potential=_fitted(reference, state, ["drift_forward", "log_level"]),
        oracle_forward=state["oracle_forward"], potential_only=state["potential_only"])
