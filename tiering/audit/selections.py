"""A select run's cultivation list as recorded, and what its one-page briefs need, kept so that the review desk
can print the briefs of the list the committee approved years later, without the register, policy or model files.

The run record holds the list (picks, then runners-up). The briefs need more: the policy, and the scored pool and
every firm's standing as :class:`tiering.selection.run.Selection` holds them. Those are written with the run as one
gzipped JSON file, stored by its SHA-256 beside the store (``<store>.selections/<sha256>``) and cited by the run
record, so ``audit verify`` notices a changed or missing file and the chain covers what every brief says.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tiering.audit.blobs import blob_problem, is_sha256, save_blob
from tiering.errors import TieringError

if TYPE_CHECKING:
    from tiering.selection.run import Selection

_FRAMES = ("ranked", "firms")


class BriefInputsMissing(TieringError, error_id="brief-inputs-missing"):
    """A select run recorded without what its briefs need (recorded before briefs were kept, or the file is gone)."""


def selections_dir(store: Path) -> Path:
    """The folder beside the database that holds each select run's brief inputs by hash."""
    return store.parent / f"{store.stem}.selections"


def list_entries(selection: Selection) -> list[dict[str, Any]]:
    """The list as the run record keeps it: the picks in order, then the runners-up (``pick`` None), each with
    its score and the reason shown beside it."""
    picks = [{"pick": int(r.pick), "uscc": r.uscc, "name": r.name, "score": float(r.combined),
              "reason": f"{r.highest_rung} → {r.next_rung or '—'}；{r.reasons}"}
             for r in selection.selected.itertuples()]
    return picks + [{"pick": None, "uscc": r.uscc, "name": r.name, "score": float(r.combined),
                     "reason": str(r.missed_reason)} for r in selection.runners_up.itertuples()]


def brief_inputs(selection: Selection) -> bytes:
    """Everything a brief reads of ``selection``, as gzipped JSON (the same selection gives the same bytes)."""
    doc: dict[str, Any] = {"policy": selection.policy.model_dump(mode="json"), "year": selection.year,
                           "n": selection.n, "with_model": selection.with_model, "warnings": list(selection.warnings)}
    for name in _FRAMES:
        frame: pd.DataFrame = getattr(selection, name)
        doc[name] = json.loads(frame.to_json(orient="table", index=False, force_ascii=False))
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return gzip.compress(text.encode(), mtime=0)


def save_brief_inputs(store: Path, data: bytes) -> dict[str, Any]:
    """Keep ``data`` (from :func:`brief_inputs`) by its hash; return what the run record cites. Written before the
    record: a run that fails to commit leaves at most a file no record cites."""
    digest = save_blob(selections_dir(store), data, ".write-")
    return {"sha256": digest, "size": len(data)}


def _file(store: Path, cited: dict[str, Any]) -> Path:
    digest = str(cited.get("sha256", ""))
    if not is_sha256(digest):
        raise BriefInputsMissing(f"the run record cites no brief-inputs file by hash ({digest[:80]!r})")
    return selections_dir(store) / digest


def check_brief_inputs(store: Path, body: dict[str, Any]) -> str | None:
    """What is wrong with the brief inputs a run record cites (missing or changed), or None (also when it cites
    none: classify runs, and select runs recorded before briefs were kept)."""
    cited = body.get("brief_inputs")
    if not cited:
        return None
    try:
        path = _file(store, cited)
    except BriefInputsMissing as exc:
        return str(exc)
    problem = blob_problem(path, cited["sha256"])
    if problem == "missing":
        return f"the brief inputs of this select run ({cited['sha256'][:12]}…) are missing from {path.parent}"
    if problem == "changed":
        return f"the brief inputs of this select run ({cited['sha256'][:12]}…) were changed"
    return None


def recorded_selection(store: Path, run: dict[str, Any]) -> Selection:
    """The :class:`Selection` select run ``run`` (its record body) made, read back from its brief inputs after
    checking their hash; :class:`BriefInputsMissing` saying what to do when the run has none."""
    cited = run.get("brief_inputs")
    if not cited:
        raise BriefInputsMissing(f"运行 {run['run_id']} 记录于保存简报数据之前，不能生成 PDF 简报；请用同一名录"
                                 f"重新运行 tiering select 并在新的运行上批准名单 (run recorded before brief inputs "
                                 f"were kept)")
    problem = check_brief_inputs(store, run)
    if problem is not None:
        raise BriefInputsMissing(f"运行 {run['run_id']} 的简报数据不可用：{problem}；运行 tiering audit verify 查看")
    # imported here: the selection package loads scikit-learn, which `audit verify` and the store never need
    from tiering.selection.policy import Policy
    from tiering.selection.run import Selection

    doc = json.loads(gzip.decompress(_file(store, cited).read_bytes()))
    frames = {name: pd.read_json(io.StringIO(json.dumps(doc[name])), orient="table") for name in _FRAMES}
    return Selection(Policy.model_validate(doc["policy"]), int(doc["year"]), int(doc["n"]), bool(doc["with_model"]),
                     frames["firms"], frames["ranked"], list(doc["warnings"]))


def as_approved(selection: Selection, picks: list[str]) -> Selection:
    """``selection`` with ``picks`` (an approved list, in order) as its list: each firm keeps its scores from the
    pool; a firm added from outside the pool keeps its standing and status, without scores. Every other candidate
    stays in the pool, not selected."""
    ranked = selection.ranked
    firms = selection.firms.set_index("uscc", drop=False)
    unknown = [u for u in picks if u not in set(ranked["uscc"]) and u not in firms.index]
    if unknown:
        raise BriefInputsMissing(f"名单中的企业 {', '.join(unknown)} 不在该遴选运行中 (not in the select run)")
    rows = []
    for place, uscc in enumerate(picks, start=1):
        hit = ranked[ranked["uscc"] == uscc]
        row = hit.iloc[0].copy() if len(hit) else firms.loc[uscc].reindex(
            [*ranked.columns, *(c for c in firms.columns if c not in ranked.columns)])
        row["selected"], row["pick"] = True, place
        rows.append(row)
    rest = ranked[~ranked["uscc"].isin(picks)].assign(selected=False, pick=0)
    listed = pd.DataFrame(rows).astype({"selected": bool, "pick": int})
    table = pd.concat([listed, rest], ignore_index=True) if len(rest) else listed.reset_index(drop=True)
    return dataclasses.replace(selection, ranked=table, n=len(picks))
