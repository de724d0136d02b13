"""A seeded synthetic event stream over a register's firms, for tests and the throughput benchmark.

The mix covers every event type; dates spread over a year and arrive partly out of order; a share of lines
repeat an earlier event id or are malformed, as a real feed's would.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd

_TYPES = ("figures", "patent_granted", "patent_lapsed", "credit_listed", "credit_cleared", "certificate_issued",
          "certificate_expired", "accident_reported", "investment_received")
_WEIGHTS = (0.25, 0.14, 0.05, 0.10, 0.08, 0.16, 0.07, 0.03, 0.12)
_LISTS = ("abnormal_operation", "serious_dishonesty", "research_misconduct")
_CERTS = ("hitech", "hitech", "software", "rd_institution")
_FIGURES = ("revenue", "employees", "tech_staff", "rd_expense")


def _payload(kind: str, rng: np.random.Generator, row: dict[str, Any], day: dt.date, data_year: int) -> dict[str, Any]:
    if kind == "figures":
        values = {}
        for f in rng.choice(_FIGURES, size=int(rng.integers(1, 4)), replace=False):
            base = row.get(f)
            base = 100.0 if base is None or pd.isna(base) else float(base)
            scaled = base * float(rng.uniform(0.6, 1.5))
            values[str(f)] = round(scaled) if f in ("employees", "tech_staff") else round(scaled, 2)
        return {"year": data_year, "period": "annual", "values": values}
    if kind in ("patent_granted", "patent_lapsed"):
        return {"ip_class": int(rng.integers(1, 3)), "count": 1}
    if kind in ("credit_listed", "credit_cleared"):
        payload: dict[str, Any] = {"list": str(rng.choice(_LISTS))}
        if kind == "credit_cleared":
            payload["erroneous"] = True
        return payload
    if kind == "certificate_issued":
        cert = str(rng.choice(_CERTS))
        out: dict[str, Any] = {"certificate": cert}
        if cert == "hitech":
            out["expiry"] = (day + dt.timedelta(days=int(rng.integers(30, 3 * 365)))).isoformat()
        return out
    if kind == "certificate_expired":
        return {"certificate": str(rng.choice(_CERTS))}
    if kind == "accident_reported":
        return {"kind": "重大安全事故"}
    return {"amount": round(float(rng.uniform(50, 3000)), 1)}


def synthetic_lines(panel: pd.DataFrame, n: int, seed: int, data_year: int, start: dt.date,
                    bad_share: float = 0.01) -> list[str]:
    """``n`` JSON lines over the firms of ``panel`` (its ``data_year`` rows give the figures' scale)."""
    rng = np.random.default_rng(seed)
    rows = panel.loc[panel["year"] == data_year, ["uscc", *_FIGURES]].to_dict("records")
    firm_idx = rng.integers(0, len(rows), size=n)
    kinds = rng.choice(len(_TYPES), size=n, p=np.array(_WEIGHTS) / sum(_WEIGHTS))
    days = np.sort(rng.integers(0, 365, size=n))
    days = days + rng.integers(-20, 21, size=n)  # some events arrive after later-dated ones
    lines: list[str] = []
    for i in range(n):
        row = rows[int(firm_idx[i])]
        day = start + dt.timedelta(days=int(max(days[i], 0)))
        kind = _TYPES[int(kinds[i])]
        event = {"event_id": f"syn-{seed}-{i:07d}", "firm_id": str(row["uscc"]), "type": kind,
                 "date": day.isoformat(), "payload": _payload(kind, rng, row, day, data_year)}
        roll = rng.uniform()
        if roll < bad_share / 2 and lines:
            lines.append(lines[int(rng.integers(0, len(lines)))])  # a repeated event
            continue
        if roll < bad_share:
            event["date"] = "2025-13-45"  # a malformed one
        lines.append(json.dumps(event, ensure_ascii=False))
    return lines
