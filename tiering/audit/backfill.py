"""Firm rows for runs recorded before the ``firms`` table existed: what the review desk filters and pages by.

The store keeps such a run's decisions but not the register's 所在区 and 行业, nor the standing the firm rows
carry, so they cannot be rebuilt from the store alone. ``tiering audit firms RUN_ID --register FILE`` rebuilds
them through the application core: the register that run classified (same SHA-256) classified again with the
run's stored rule texts (:func:`tiering.audit.replay.reclassify`); only when every decision is the one recorded
are the rows written. They are derived from a run the chain covers and serve the desk's filters; no record
covers them, so ``audit verify`` does not check them.
"""

from __future__ import annotations

from pathlib import Path

from tiering.audit import chain
from tiering.audit.db import connect
from tiering.audit.decisions import Decisions
from tiering.audit.replay import reclassify
from tiering.audit.store import FIRM_COLUMNS, firm_rows, run_record, write_transaction, year_facts
from tiering.errors import TieringError, Where
from tiering.register import Register


class BackfillRefused(TieringError, error_id="backfill-refused"):
    """Firm rows that cannot be rebuilt as asked: the run has them, the register is another file, or the run's
    decisions do not come out the same."""


def backfill_firms(store: Path, run_id: str, register: Register) -> int:
    """Write the firm rows of run ``run_id`` from ``register`` (the file that run classified); return how many."""
    conn = connect(store, create=False)
    try:
        run = run_record(conn, run_id)
        seq, has = conn.execute("SELECT r.seq, EXISTS (SELECT 1 FROM firms f WHERE f.run = r.seq) FROM records r "
                                "WHERE r.kind = 'run' AND r.ref = ?", (run_id,)).fetchone()
    finally:
        conn.close()
    if has:
        raise BackfillRefused(f"运行 {run_id} 已有企业明细，无需补录 (the run has its firm rows)")
    if register.sha256 != run["input"]["sha256"]:
        raise BackfillRefused(f"不是运行 {run_id} 评价的名录：SHA-256 {register.sha256[:16]}… ≠ 记录的 "
                              f"{run['input']['sha256'][:16]}…（{run['input']['file']}）；请用那个文件 "
                              f"(not the register that run classified)", where=Where(file=str(register.path)))
    run, result = reclassify(store, run_id, register)
    if chain.rows_sha256(Decisions(run["year"], result.outcomes).rows()) != run["decisions"]["sha256"]:
        raise BackfillRefused(f"用记录的规则重新评价名录，结果与运行 {run_id} 的记录不同；运行 tiering audit replay "
                              f"{run_id} --register {register.path} 查看差异 (the replay differs from the record)")
    firms = firm_rows(result.standing, year_facts(result.register.frame, run["year"]))
    with write_transaction(store) as conn:
        if conn.execute("SELECT 1 FROM firms WHERE run = ? LIMIT 1", (seq,)).fetchone() is None:
            conn.executemany(f"INSERT INTO firms (run, {', '.join(FIRM_COLUMNS)}) VALUES "
                             f"(?, {', '.join('?' * len(FIRM_COLUMNS))})", [(seq, *row) for row in firms])
    return len(firms)
