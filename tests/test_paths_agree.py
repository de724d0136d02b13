"""The batch (vectorised) path and the per-firm path give the same trace for random firms, edges included."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tiering.engine.evaluate import evaluate, evaluate_firm, firm_slice
from tiering.fields import FIELDS, DType
from tiering.rules.library import load_library

LIBRARY = load_library()
RULESETS = LIBRARY.in_force(dt.date(2025, 6, 30))

# values on and next to the band edges of the bundled tables, plus missing
EDGE_SHARES = [0.0, 0.0999, 0.1, 0.15, 0.2, 0.2499, 0.25, 0.3, 1.0]
money = st.one_of(st.none(), st.sampled_from([0.0, 1.0, 199.0, 200.0, 300.0, 600.0, 19999.99, 20000.0, 20000.01]),
                  st.floats(0, 50000, allow_nan=False))
count = st.one_of(st.none(), st.integers(0, 6).map(float))
flag = st.one_of(st.none(), st.booleans().map(float))


@st.composite
def firm(draw: st.DrawFn) -> dict:
    employees = draw(st.one_of(st.none(), st.sampled_from([1.0, 100.0, 500.0, 501.0]), st.integers(1, 900).map(float)))
    share = draw(st.sampled_from(EDGE_SHARES))
    row = {f.id: (None if f.dtype == DType.TEXT else np.nan) for f in FIELDS}
    row.update(
        employees=employees, tech_staff=None if employees is None else math.floor(employees * share),
        revenue=draw(money), total_assets=draw(money), rd_expense=draw(money), cost_expense=draw(money),
        ip_class1=draw(count), ip_class2=draw(count), resident_enterprise=draw(flag), restricted_industry=draw(flag),
        major_accident=draw(flag), research_misconduct=draw(flag), abnormal_operation=draw(flag),
        serious_dishonesty=draw(flag), hitech_cert=draw(flag), national_award_top3=draw(flag),
        rd_institution=draw(flag), standard_lead=draw(flag),
        industry=draw(st.sampled_from([None, "高端装备制造", "房地产业"])),
    )
    return row


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=60, deadline=None)
@given(st.lists(firm(), min_size=1, max_size=8))
def test_batch_and_per_firm_paths_agree(rows: list[dict]) -> None:
    for i, row in enumerate(rows):
        row.update(uscc=f"F{i:03d}", name=f"企业{i}", year=2024)
    panel = pd.DataFrame(rows)
    panel["tech_staff"] = panel["tech_staff"].astype(float)
    batch = evaluate(panel, RULESETS, 2025)
    for i in range(len(rows)):
        uscc = f"F{i:03d}"
        single = evaluate_firm(panel[panel["uscc"] == uscc], RULESETS, 2025)
        sliced = firm_slice(batch, uscc)
        for rs_id, nodes in single.items():
            for node_id, one in nodes.items():
                other = sliced[rs_id][node_id]
                pairs = [(one.value, other.value), (one.threshold, other.threshold), (one.pmin, other.pmin),
                         (one.pmax, other.pmax)]
                assert all(same(a, b) for a, b in pairs), (uscc, node_id, one, other)
                assert (one.status, one.band) == (other.status, other.band), (uscc, node_id, one, other)
