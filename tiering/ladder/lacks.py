"""What a firm still lacks (一企一策): for every rule set it does not meet, the smallest concrete changes that would
make it qualify, in the firm's own numbers.

Read from the compiled rules and the batch evaluation, never written per programme: the tree of the rule set is
walked, and for an ``all`` every failing child contributes, for an ``any`` / ``paths`` the cheapest alternative,
for ``at_least k`` the cheapest missing ones, for a score the cheapest band moves (one, else two, else as many as it
takes) that close the gap, for a ``requires`` what the other programme lacks. A test on a metric is closed by moving
one of this year's numbers (see :mod:`tiering.ladder.levers`), a condition on time by waiting — or not at all — and
a missing value by supplying it. Each item of a provisional criterion says "（暂定条件）".

The per-firm work is building text; everything numeric runs per criterion over all firms that fail it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from tiering.engine.evaluate import Evaluation, RuleSetResult
from tiering.ladder import wording
from tiering.ladder.columns import ArrowTexts, Column, Groups, ListTexts, Texts, arranged, join, place
from tiering.ladder.moves import INF, STUCK, Mover, Option, Render, constant
from tiering.patterns import distinct_rows
from tiering.rules.nodes import (
    FAIL,
    PASS,
    UNKNOWN,
    GroupNode,
    Node,
    PointsNode,
    RequiresNode,
    ScoreNode,
    TestNode,
    Vec,
)
from tiering.rules.operators import compare, op_zh

if TYPE_CHECKING:
    import pandas as pd

SEP = "；"
PROVISIONAL = "（暂定条件）"


class _Plan:
    """Per firm: total cost (0 = nothing needed, ∞ = cannot qualify by effort), and the items to do as columns —
    a registered text and the mask of firms it applies to — so that combining plans is array work and a text is
    rendered only for the firms that end up needing it."""

    def __init__(self, cost: np.ndarray, items: list[tuple[int, np.ndarray]]) -> None:
        self.cost, self.items = cost, items

    @staticmethod
    def empty(m: int) -> _Plan:
        return _Plan(np.zeros(m), [])

    def only(self, mask: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """This plan's items restricted to the firms in ``mask``."""
        return [(k, where & mask) for k, where in self.items if (where & mask).any()]


class _RuleSetLacks:
    """The plans of one rule set for the firms (a subset of the evaluation) that do not qualify."""

    def __init__(self, evaluation: Evaluation, result: RuleSetResult, sub: np.ndarray, amounts: bool,
                 dep_costs: dict[str, np.ndarray], titles: dict[str, str], written: wording.Amounts) -> None:
        self.result, self.sub, self.m = result, sub, len(sub)
        self.dep_costs, self.titles, self.columns = dep_costs, titles, written.texts
        # the evaluation's own columns, sliced to the firms planned: no renumbering, nothing derived again
        ctx = evaluation.contexts[result.data_year].subset(sub) if amounts else None
        rs = result.ruleset
        labels = {id(expr): rs.meta.metrics[name].label for name, expr in rs.metrics.items()}
        self._vecs: dict[str, Vec] = {}
        self.mover = Mover(ctx, self.vec, result.data_year, labels, written)
        self.renders: list[Render] = []

    def vec(self, node_id: str) -> Vec:
        """A node's arrays restricted to the subset."""
        if node_id not in self._vecs:
            v = self.result.nodes[node_id]
            s = self.sub
            self._vecs[node_id] = Vec(v.value[s], v.threshold[s], v.status[s], v.pmin[s], v.pmax[s], v.band[s],
                                      None if v.text is None else v.text[s])
        return self._vecs[node_id]

    def texts(self, plan: _Plan) -> Groups:
        """Each firm's lacks text, to be joined by '；' (:func:`join`): every item worded for all its firms at once,
        then each firm's items — each text once, what no effort can change first, otherwise in plan order; '—' for
        a firm with none."""
        cols = self.columns
        firms: list[np.ndarray] = []
        said: list[Column] = []
        for k, where in plan.items:
            at = np.flatnonzero(where)
            firms.append(at)
            said.append(cols.of(self.renders[k](at)))
        items = [*said, ["—"]]
        firm = np.concatenate([*firms, np.zeros(0, dtype=np.int64)])
        # each firm's items in plan order, those no effort can change first: one stable sort by firm and kind
        impossible = np.concatenate([cols.starts_with(c, wording.IMPOSSIBLE) for c in said] + [np.zeros(0, bool)])
        order = np.argsort(firm * 2 + ~impossible, kind="stable")
        firm = firm[order]
        length = np.concatenate([cols.lengths(c) for c in said] + [np.zeros(0, np.int64)])[order]
        keep = length > 0
        # a text said twice to one firm is kept where it comes first; only texts of one length can be equal
        key = firm * (int(length.max(initial=0)) + 1) + length
        ranked = np.argsort(key, kind="stable")
        opens = np.r_[True, key[ranked[1:]] != key[ranked[:-1]]]
        group = np.cumsum(opens) - 1
        size = np.bincount(group)[group]
        # two texts of one firm and length (the usual case): the later is a copy where they are equal
        second = np.flatnonzero((size == 2) & ~opens)
        earlier, later = ranked[second - 1], ranked[second]
        keep[later[cols.equal(cols.gather(items, order[earlier]), cols.gather(items, order[later]))]] = False
        # more of them: compared in Python
        alike = np.sort(ranked[(size > 2) & keep[ranked]])
        if len(alike):
            seen: set[tuple[int, str]] = set()
            for i, text in zip(alike.tolist(), cols.strings(cols.gather(items, order[alike])), strict=True):
                pair = (int(firm[i]), text)
                keep[i] = pair not in seen
                seen.add(pair)
        # a firm left with no text reads '—' (the last item)
        bare = np.flatnonzero(np.bincount(firm[keep], minlength=self.m) == 0)
        index = np.concatenate([order[keep], np.full(len(bare), len(firm))])
        owner = np.concatenate([firm[keep], bare])
        regroup = np.argsort(owner, kind="stable")
        owner = owner[regroup]
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        return Groups(items, index[regroup], starts)

    def _register(self, render: Render, suffix: str, where: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Items (one text) for the firms in ``where``."""
        if not where.any():
            return []
        self.renders.append(render if not suffix else (lambda firms: self.columns.cat(render(firms), suffix)))
        return [(len(self.renders) - 1, where.copy())]

    def plan(self, node: Node) -> _Plan:
        if node.informational:
            return _Plan.empty(self.m)
        status = self.vec(node.id).status
        if not (status != PASS).any():
            return _Plan.empty(self.m)
        if isinstance(node, GroupNode):
            return self._group(node, status)
        suffix = PROVISIONAL if node.provisional else ""
        if isinstance(node, TestNode):
            return self._test(node, status, suffix)
        if isinstance(node, ScoreNode):
            return self._score_node(node, status, suffix)
        if isinstance(node, RequiresNode):
            return self._requires(node, status, suffix)
        return _Plan.empty(self.m)

    # --- groups ------------------------------------------------------------------------------------------------
    def _group(self, node: GroupNode, status: np.ndarray) -> _Plan:
        kids = [self.plan(c) for c in node.counted()]
        pending = status != PASS
        if node.how == "all":
            cost = np.sum([k.cost for k in kids], axis=0)
            return _Plan(np.where(pending, cost, 0.0), [c for k in kids for c in k.only(pending)])
        costs = np.vstack([k.cost for k in kids])
        kid_status = np.vstack([self.vec(c.id).status for c in node.counted()])
        costs = np.where(kid_status == PASS, INF, costs)  # a passing child is no alternative to pay for
        if node.how in ("any", "paths"):
            best = costs.argmin(axis=0)
            cost = costs[best, np.arange(self.m)]
            items = [c for j, k in enumerate(kids) for c in k.only(pending & (best == j))]
            return _Plan(np.where(pending, cost, 0.0), items)
        need = np.maximum(node.k - (kid_status == PASS).sum(axis=0), 0)
        rank = np.argsort(np.argsort(costs, axis=0, kind="stable"), axis=0)  # 0 = cheapest child of each firm
        chosen = pending & (rank < need)
        cost = np.where(chosen, costs, 0.0).sum(axis=0)
        return _Plan(cost, [c for j, k in enumerate(kids) for c in k.only(chosen[j])])

    # --- tests ---------------------------------------------------------------------------------------------------
    def _test(self, node: TestNode, status: np.ndarray, suffix: str) -> _Plan:
        fail, unknown = status == FAIL, status == UNKNOWN
        if node.points_of is not None:
            target = self.result.ruleset.nodes[node.points_of]
            return self._score(node, [target], node.op, self.vec(node.id).threshold, status, suffix)
        move = self.mover.test(node, fail)
        items = self._register(move.render, suffix, fail)
        cells_of = self.mover.missing_cells(node) if unknown.any() else None

        described = self.mover.describe(node)

        def missing(firms: np.ndarray) -> list[str]:
            cells = cells_of(firms) if cells_of is not None else [""] * len(firms)
            return [f"{wording.MISSING}：{described}{c}" if c else f"{described}无法计算（数据齐全但分母为0），待定"
                    for c in cells]

        items += self._register(missing, suffix, unknown)
        return _Plan(np.where(fail, move.cost, 0.0), items)

    def _requires(self, node: RequiresNode, status: np.ndarray, suffix: str) -> _Plan:
        title = self.titles.get(node.program, node.program)
        dep = self.dep_costs.get(node.program)
        fail = status == FAIL
        cost = np.where(fail, dep[self.sub] if dep is not None else STUCK, 0.0)
        items = self._register(constant(f"须先符合「{title}」（所缺见该项目）"), suffix, fail)
        items += self._register(constant(f"{wording.MISSING}：「{title}」待定（见该项目）"), suffix, status == UNKNOWN)
        return _Plan(cost, items)

    # --- scores: the cheapest band moves that close the gap -----------------------------------------------------
    def _score_node(self, node: ScoreNode, status: np.ndarray, suffix: str) -> _Plan:
        """A score's plan; where the register gives the score (its override), no band move changes it: the firm
        needs a new evaluation, which this year's data cannot supply."""
        mark = np.full(self.m, node.mark)
        given = self.vec(node.id).band >= 0 if node.override is not None else np.zeros(self.m, dtype=bool)
        if not given.any():
            return self._score(node, node.children, node.op, mark, status, suffix)
        plan = self._score(node, node.children, node.op, mark, np.where(given, PASS, status), suffix)
        shown = self.vec(node.id).pmin
        stuck = given & (status != PASS)

        def render(firms: np.ndarray) -> list[str]:
            need = f"要求{op_zh(node.op)}{node.mark:g}分"
            return [f"{node.label}：按登记的得分{score:g}分（人工覆盖），{need}，须经重新评价"
                    for score in shown[firms].tolist()]

        return _Plan(np.where(stuck, STUCK, plan.cost), plan.items + self._register(render, suffix, stuck))

    def _score(self, node: Node, parts: list[Node], op: str, mark: np.ndarray, status: np.ndarray,
               suffix: str) -> _Plan:
        fail, unknown = status == FAIL, status == UNKNOWN
        lo = np.sum([self.vec(p.id).pmin for p in parts], axis=0)
        hi = np.sum([self.vec(p.id).pmax for p in parts], axis=0)
        # a failing score must first leave 'fail' (the top of its range passes); an undetermined one must pass for
        # sure (the bottom of its range passes)
        active = fail | unknown
        options: list[Option] = []
        for k, part in enumerate(parts):
            options += self.mover.options(part, k, active)
        costs = np.vstack([o.cost for o in options]) if options else np.zeros((1, self.m))
        choice = _choose(options, costs, np.where(fail, hi, lo), op, mark, active, fail)
        open_lists, open_of = self._open(parts)
        # the picked options' costs added in the order they are said (an inactive firm picks none: its cost stays 0)
        cost = np.zeros(self.m)
        firms = np.arange(self.m)
        for column in choice.T:
            cost = np.where(column >= 0, cost + costs[np.maximum(column, 0), firms], cost)
        waits = unknown & np.array([bool(names) for names in open_lists])[open_of]
        cost = np.where(active & (choice[:, 0] < 0) & ~waits, STUCK, cost)

        def render(firms: np.ndarray) -> Column:
            return self._score_texts(node, op, firms, (lo, hi, mark, unknown), choice, options,
                                     (open_lists, open_of))

        return _Plan(cost, self._register(render, suffix, active))

    def _score_texts(self, node: Node, op: str, firms: np.ndarray,
                     stands: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], choice: np.ndarray,
                     options: list[Option], open_parts: tuple[list[list[str]], np.ndarray]) -> Column:
        """The firms' texts for a score: where each stands (``stands``: lowest and highest points, the mark, and
        whether undetermined), each distinct standing written once, and the band moves chosen, each option worded
        at once for the firms that picked it and each firm's moves joined by '；'."""
        cols = self.columns
        lo, hi, mark, unknown = (x[firms] for x in stands)
        open_lists, open_of = open_parts[0], open_parts[1][firms]
        picks = choice[firms]
        moved = picks[:, 0] >= 0
        first, at = wording.distinct([wording.bits(lo), wording.bits(hi), wording.bits(mark), unknown, moved,
                               np.where(moved | ~unknown, 0, open_of)])
        words = []
        for low, high, need, pending, chosen, k in zip(lo[first].tolist(), hi[first].tolist(), mark[first].tolist(),
                                                       unknown[first].tolist(), moved[first].tolist(),
                                                       open_of[first].tolist(), strict=True):
            got = f"{low:g}分" if low == high else f"{low:g}–{high:g}分"
            head = f"{node.label}：当前{got}，要求{op_zh(op)}{need:g}分"
            if not chosen:
                words.append(_stuck_text(head, pending, open_lists[k]))
            elif pending:
                words.append(f"{head}，确保通过需：")
            else:
                words.append(f"{head}{'（待定评分项按最高分计）' if low != high else ''}，需：")
        # the moves of the firms one after another (firm by firm, in pick order), each option's texts worded at once
        rows = np.flatnonzero(moved)
        said = picks[rows]
        firm_of, _ = np.nonzero(said >= 0)
        picked = said[said >= 0]
        pieces = [(np.flatnonzero(picked == o), options[o].render(firms[rows[firm_of[picked == o]]]))
                  for o in np.unique(picked).tolist()]
        starts = np.flatnonzero(np.r_[True, firm_of[1:] != firm_of[:-1]]) if len(firm_of) else firm_of
        # joined straight from the options' texts: one gather puts them in that order with the separators
        moves = join(cols, [Groups(*arranged(len(picked), pieces), starts)], "；")
        return cols.cat(cols.take(words, at), place(cols, len(firms), [(rows, moves)]))

    def _open(self, parts: list[Node]) -> tuple[list[list[str]], np.ndarray]:
        """The parts whose points are still a range (expert scores not given, data missing): one list per distinct
        set of open parts, and per firm the number of its list."""
        leaves = [leaf for part in parts for leaf in part.walk() if isinstance(leaf, PointsNode)]
        if not leaves:
            return [[]], np.zeros(self.m, dtype=np.int64)
        ranged = np.vstack([self.vec(leaf.id).pmin != self.vec(leaf.id).pmax for leaf in leaves])
        patterns, firm_pattern = distinct_rows(ranged.T)
        lists = [[leaf.label for leaf, open_ in zip(leaves, p, strict=True) if open_] for p in patterns]
        return lists, np.asarray(firm_pattern, dtype=np.int64)


def _stuck_text(head: str, unknown: bool, open_parts: list[str]) -> str:
    """A score's text where no band moves are chosen: it waits on criteria not yet determined, or this year's data
    cannot make up the points."""
    if unknown and open_parts:
        named = "、".join(_short(t) for t in open_parts[:3])
        more = f"等{len(open_parts)}项" if len(open_parts) > 3 else ""
        return f"{head}，取决于尚未确定的评分项（{named}{more}）"
    return f"{head}，仅调整当年数据无法补足"


def _short(label: str) -> str:
    """A criterion label without its trailing note in brackets: '技术的先进程度（专家评分0–8分）' → '技术的先进程度'."""
    return re.sub(r"（[^（）]*）$", "", label)


def _choose(options: list[Option], costs: np.ndarray, current: np.ndarray, op: str, mark: np.ndarray,
            active: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Per firm (a row), the cheapest set of options (one per item) that makes the total pass, in the order they
    are said, padded with −1: singles, then pairs, then the largest gains greedily; all −1 when even every item's
    best move is not enough. Gains count on the top of a points range where ``top`` (a failing score) and on its
    bottom elsewhere (an undetermined one)."""
    m = len(current)
    items = sorted({o.item for o in options})
    chosen = np.full((m, max(2, len(items))), -1, dtype=np.int64)
    if not options:
        return chosen
    gains = np.vstack([np.where(top, o.gain_hi, o.gain_lo) for o in options])
    todo = active.copy()
    # singles
    single = np.where(compare(op, current + gains, mark) & np.isfinite(costs), costs, INF)
    best = single.argmin(axis=0)
    ok = todo & np.isfinite(single[best, np.arange(m)])
    chosen[ok, 0] = best[ok]
    todo &= ~ok
    rest = np.flatnonzero(todo)
    if not len(rest):
        return chosen
    # each item's largest usable gain for the firms no single option is enough for: the pairs' bound and the greedy
    # read the same table
    best_option, best_gain = _largest_gains(options, items, gains[:, rest], costs[:, rest])
    # pairs from different items, over the firms the two largest gains of different items might be enough for
    # (with room for rounding: the bound adds them in another order; a gain of at most 0 never completes a pair
    # where its partner alone falls short)
    near = np.arange(len(rest))
    if op in (">=", ">"):
        near = near[compare(op, current[rest] + _two_largest(best_gain) + 1e-6, mark[rest])]
    if len(near):
        at = rest[near]
        gains_r, costs_r, current_r, mark_r = gains[:, at], costs[:, at], current[at], mark[at]
        best_cost = np.full(len(at), INF)
        best_pair = np.full((len(at), 2), -1)
        for a in range(len(options)):
            for b in range(a + 1, len(options)):
                if options[a].item == options[b].item:
                    continue
                c = costs_r[a] + costs_r[b]
                hit = compare(op, current_r + gains_r[a] + gains_r[b], mark_r) & (c < best_cost)
                best_cost = np.where(hit, c, best_cost)
                best_pair[hit] = (a, b)
        paired = np.flatnonzero(np.isfinite(best_cost))
        chosen[at[paired], :2] = best_pair[paired]
        todo[at[paired]] = False
    # greedy: each item's largest gain, biggest first
    left = np.flatnonzero(todo[rest])
    if len(left):
        at = rest[left]
        chosen[at, :len(items)] = _greedy(best_option[:, left], best_gain[:, left], current[at], op, mark[at])
    return chosen


def _largest_gains(options: list[Option], items: list[int], gains: np.ndarray,
                   costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per item (rows, in the order of ``items``) and firm (columns of the arguments), the option with the largest
    usable gain (a finite cost and a gain above 0; the first option among equals) and that gain: −1 and −∞ where
    the item has none."""
    row_of = {item: row for row, item in enumerate(items)}
    m = gains.shape[1]
    best_option = np.full((len(items), m), -1)
    best_gain = np.full((len(items), m), -INF)
    for o, opt in enumerate(options):
        row = row_of[opt.item]
        usable = np.isfinite(costs[o]) & (gains[o] > 0) & ((best_option[row] < 0) | (gains[o] > best_gain[row]))
        best_option[row] = np.where(usable, o, best_option[row])
        best_gain[row] = np.where(usable, gains[o], best_gain[row])
    return best_option, best_gain


def _two_largest(best_gain: np.ndarray) -> np.ndarray:
    """Per firm (columns of :func:`_largest_gains`' gains), the sum of the largest usable gains of two different
    items (−∞ where fewer than two items have one)."""
    if len(best_gain) < 2:
        return np.full(best_gain.shape[1], -INF)
    ranked = np.sort(best_gain, axis=0)
    return ranked[-1] + ranked[-2]


def _greedy(best_option: np.ndarray, best_gain: np.ndarray, current: np.ndarray, op: str,
            mark: np.ndarray) -> np.ndarray:
    """Per firm (columns of :func:`_largest_gains`' tables, rows of the result), each item's largest usable gain,
    taken biggest first (item order among equals) until the total passes, padded with −1; all −1 if all of them
    are not enough. Vectorised over firms, item by item, adding in the same order as one would by hand, so totals
    round the same."""
    items, m = best_gain.shape
    order = np.argsort(np.where(best_option >= 0, -best_gain, INF), axis=0, kind="stable")
    firms = np.arange(m)
    total = current.astype(float)
    taken = np.full(m, -1)
    for k in range(items):
        option = best_option[order[k], firms]
        step = (option >= 0) & (taken < 0)
        total = np.where(step, total + best_gain[order[k], firms], total)
        taken[step & compare(op, total, mark)] = k
    # per firm, its items' options biggest gain first, as far as the one that makes it pass
    ranked = best_option[order, firms].T
    return np.where(np.arange(items) <= taken[:, None], ranked, -1)


def _titles(evaluation: Evaluation) -> dict[str, str]:
    return {r.ruleset.program: r.ruleset.shown_title for r in evaluation.results}


FIRMS_PER_PLAN = 1 << 17
"""Firms planned at once: a plan holds several arrays per band move and firm, gigabytes for a million firms; each
firm's plan depends on that firm alone."""


def _plans(evaluation: Evaluation, amounts: bool, cols: Texts, only: np.ndarray | None = None
           ) -> list[tuple[RuleSetResult, np.ndarray, np.ndarray, list[Groups]]]:
    """Per rule set (in evaluation order, so a dependency's cost exists before it is read): the firms that do not
    qualify, their costs and their texts, to be joined by :data:`SEP` (columns of ``cols``' kind)."""
    titles = _titles(evaluation)
    n = len(evaluation.firms)
    dep_costs: dict[str, np.ndarray] = {}
    written = wording.Amounts(cols)
    out = []
    for result in evaluation.results:
        mask = result.outcome != PASS
        if only is not None:
            mask &= only
        sub = np.flatnonzero(mask)
        full = np.zeros(n)
        texts: list[Groups] = []
        for start in range(0, len(sub), FIRMS_PER_PLAN):
            part = sub[start: start + FIRMS_PER_PLAN]
            work = _RuleSetLacks(evaluation, result, part, amounts, dep_costs, titles, written)
            plan = work.plan(result.ruleset.root)
            full[part] = plan.cost
            texts.append(work.texts(plan))
        dep_costs[result.ruleset.program] = full
        out.append((result, sub, full[sub], texts))
    return out


def lacks(evaluation: Evaluation, amounts: bool = True) -> pd.DataFrame:
    """One row per firm and rule set it does not qualify for (rule set by rule set, in the evaluation's order; the
    rows of :func:`tiering.explain.outcomes.outcome_frame` whose outcome is not 'qualified', in the same order):
    uscc, name, program, ruleset_id, outcome, cost and lacks (Chinese text, items separated by '；'; cost ∞ =
    cannot qualify by its own effort).

    The amounts to change are worked out on the columns the evaluation read (``evaluation.contexts``); with
    ``amounts=False`` the text names the gaps of each criterion but not the amounts.
    """
    import pandas as pd  # the table only: one firm's lacks (lacks_for_firm, explain) do not load pandas

    from tiering import strings

    cols = ArrowTexts()
    plans = [plan for plan in _plans(evaluation, amounts, cols) if len(plan[1])]
    if not plans:
        return pd.DataFrame(columns=["uscc", "name", "program", "ruleset_id", "outcome", "cost", "lacks"])
    firm = np.concatenate([sub for _, sub, _, _ in plans])
    which = np.repeat(np.arange(len(plans)), [len(sub) for _, sub, _, _ in plans])
    pending = np.concatenate([result.outcome[sub] == UNKNOWN for result, sub, _, _ in plans]).astype(np.int64)
    return pd.DataFrame({
        "uscc": strings.repeated(evaluation.firms, firm),
        "name": strings.repeated(evaluation.names, firm),
        "program": strings.repeated([result.ruleset.program for result, _, _, _ in plans], which),
        "ruleset_id": strings.repeated([result.ruleset.id for result, _, _, _ in plans], which),
        "outcome": strings.repeated(["not_qualified", "undetermined"], pending),
        "cost": np.concatenate([cost for _, _, cost, _ in plans]),
        "lacks": strings.column(join(cols, [part for _, _, _, texts in plans for part in texts], SEP)),
    })


def lacks_for_firm(evaluation: Evaluation, uscc: str, amounts: bool = True) -> dict[str, list[str]]:
    """What one firm lacks, per rule set id it does not qualify for (rule sets it meets are left out)."""
    only = evaluation.firms == uscc
    if not only.any():
        raise KeyError(f"企业 {uscc} 不在本次评价中")
    cols = ListTexts()
    return {result.ruleset.id: join(cols, texts, SEP)[0].split(SEP)
            for result, sub, _, texts in _plans(evaluation, amounts, cols, only) if len(sub)}
