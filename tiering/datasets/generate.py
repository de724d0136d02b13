"""A realistic, seeded panel of technology SMEs, calibrated to the figures the seed documents publish.

The parts, each vectorised over firms with loops over years only:

- population: births, exits, districts, industries and two hidden traits, innovation and growth_potential;
- revenue: the calibrated snapshot size distribution and persistent-but-noisy growth;
- accounts: staff, R&D, income, assets, costs and profit that follow size and innovation;
- ip: Ⅰ类/Ⅱ类 stocks that accumulate from R&D and lapse;
- recognition: 高企 and other certificates, awards, platforms, standards, competitions, titles;
- profile: technology field, niche market, brand and systems;
- events: venture rounds, equity financing, rare credit and accident events.

The last year of the panel reproduces the published 东丽 figures (see tiering.datasets.calibration).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tiering.datasets import districts as dist
from tiering.datasets.accounts import finances, staff
from tiering.datasets.events import financing_and_incidents
from tiering.datasets.identity import NEW_STYLE_FROM, make_names, make_usccs
from tiering.datasets.ip import simulate_ip
from tiering.datasets.population import Firms, Places, draw_firms, places_for
from tiering.datasets.profile import business_profile
from tiering.datasets.recognition import hitech_certificates, recognition
from tiering.datasets.refused import GenerateRefused
from tiering.datasets.revenue import simulate_revenue
from tiering.datasets.sampling import LN_1000, Seed, stream
from tiering.fields import FIELDS, DType

if TYPE_CHECKING:
    from tiering.app import Progress

CHUNK = 1 << 16
HIDDEN_AGE, HIDDEN_LEVEL, HIDDEN_TRANSIENT, HIDDEN_PART_YEAR = "age", "log_level", "transient", "part_year"
HIDDEN_COLUMNS = ("uscc", "year", HIDDEN_AGE, HIDDEN_LEVEL, HIDDEN_TRANSIENT, HIDDEN_PART_YEAR)
"""Firms simulated together; fixed, because the random streams are drawn per chunk."""
OWNERSHIP = (("民营", 0.94), ("国有", 0.02), ("外资", 0.025), ("混合", 0.015))
"""民营 share from 蓟县 (seed 000: 94 %); the rest split by assumption."""
NOT_GENERATED: frozenset[str] = frozenset({
    "hitech_score_advance", "hitech_score_core_support", "hitech_score_ip_count", "hitech_score_ip_acquisition",
    "hitech_score_standard_bonus", "hitech_score_conversion", "hitech_score_rd_management",
    "hitech_score_na_growth", "hitech_score_revenue_growth", "zjtx_score", "zjtx_score_sector",
    "zjtx_score_digital", "zjtx_score_local",
})
"""Fields left blank: scores entered by hand (高企 expert sub-scores, the 专精特新 evaluation score) exist only for
applicants and are bounded by points tables in rules/, which the generator does not read. A field added to the
registry later is left blank too until the generator learns it."""


@dataclass(frozen=True)
class GeneratedPanel:
    """A generated register and the hidden truth behind it.

    ``panel`` follows the internal panel frame contract: one row per (uscc, year), columns = every field id of
    tiering.fields in registry order, money in 万元; fields in NOT_GENERATED (and any field the generator does not
    know) are blank. ``latent`` has one row per firm, in the panel's firm order: uscc, growth_potential (yearly
    log growth premium), innovation, size_quantile (revenue quantile in the anchor year), exit_year (last year
    on the register; missing for firms still on it). ``hidden`` has one row per panel row, in the panel's order:
    uscc, year, age (years since registration), log_level (the persistent log revenue level, log 万元),
    transient (the mean-reverting deviation of log revenue from it) and part_year (log of the share of the
    registration year operated, 0 in other years): the state of revenue that no register shows.
    """

    panel: pd.DataFrame
    latent: pd.DataFrame
    hidden: pd.DataFrame


def _year_list(years: range | tuple[int, int]) -> np.ndarray:
    if isinstance(years, range):
        values = np.array(list(years), dtype=np.int64)
    else:
        first, last = years
        values = np.arange(int(first), int(last) + 1, dtype=np.int64)
    if len(values) == 0 or np.any(np.diff(values) != 1):
        raise GenerateRefused(f"years 应为连续年度，如 (2015, 2025) 或 range(2015, 2026)，实为 {years!r}")
    return values


SIMULATING = "模拟企业 simulating firms"
ASSEMBLING = "组装名录 assembling the register"


@dataclass(frozen=True)
class GeneratedBlock:
    """The rows of one block of consecutive firms: ``panel`` and ``hidden`` as in :class:`GeneratedPanel`,
    indexed from 0 within the block."""

    panel: pd.DataFrame
    hidden: pd.DataFrame


@dataclass(frozen=True)
class GeneratedBlocks:
    """A generated register made one block of CHUNK firms at a time, so that only the per-firm arrays and one
    block's firm-years are held at once: ``latent`` is whole (one row per firm, as in :class:`GeneratedPanel`),
    ``rows`` the number of firm-years, ``firms`` the number of firms (those that exited included) and ``blocks``
    yields the blocks in panel order, once. Concatenated, the blocks are the panel :func:`generate_panel` returns.
    """

    latent: pd.DataFrame
    rows: int
    firms: int
    blocks: Iterator[GeneratedBlock]


def generate_panel(
    firms: int, years: range | tuple[int, int], seed: int, district: str | None = None,
    progress: Progress | None = None,
) -> GeneratedPanel:
    """Generate a seeded register of ``firms`` firms (on the register in the last year) over ``years``.

    ``years`` is a range or an inclusive (first, last) pair. ``district`` puts every firm in one district
    (东丽区, 宝坻区, 蓟州区/蓟县, 包头市); None mixes the three Tianjin districts of the seeds. Firms that exited
    before the last year are added on top of ``firms``. The same arguments always give the same panel.
    ``progress`` (:data:`tiering.app.Progress`) hears of every block of firms simulated and of the assembly.
    The whole register is held in memory; :func:`generate_blocks` makes the same one a block at a time.
    """
    generated = generate_blocks(firms, years, seed, district, progress)
    blocks = list(generated.blocks)
    if progress is not None:
        progress(ASSEMBLING, 0, 1)
    return GeneratedPanel(
        panel=pd.concat([b.panel for b in blocks], ignore_index=True),
        latent=generated.latent,
        hidden=pd.concat([b.hidden for b in blocks], ignore_index=True),
    )


def generate_blocks(
    firms: int, years: range | tuple[int, int], seed: int, district: str | None = None,
    progress: Progress | None = None,
) -> GeneratedBlocks:
    """The register :func:`generate_panel` makes from the same arguments, made CHUNK firms at a time.

    Who is on the register and each firm's identity (code, name, ownership …) are drawn for every firm at once,
    as they must be unique or follow quotas over the whole register; the yearly fields are simulated and
    assembled one block of firms at a time as the blocks are taken. ``progress`` hears of every block made.
    """
    if firms < 1:
        raise GenerateRefused(f"firms 应为正整数，实为 {firms}")
    year_values = _year_list(years)
    places = places_for(district)
    f = draw_firms(firms, year_values, seed, places)
    active = (year_values[None, :] >= f.reg_year[:, None]) & (year_values[None, :] <= f.anchor_year[:, None])
    province = np.array([p.province for p, _ in places])[f.district]
    identity = _identity(f, places, seed)
    latent = pd.DataFrame({
        "uscc": pd.array(identity["uscc"], dtype="str"),
        "growth_potential": f.growth_potential,
        "innovation": f.innovation,
        "size_quantile": f.size_quantile,
        "exit_year": pd.array(np.where(f.survivor, np.nan, f.anchor_year.astype(float)), dtype="Int64"),
    })
    blocks = _blocks(f, province, identity, year_values, active, seed, progress)
    return GeneratedBlocks(latent=latent, rows=int(active.sum()), firms=len(f.survivor), blocks=blocks)


def _blocks(
    f: Firms, province: np.ndarray, identity: dict[str, np.ndarray], years: np.ndarray, active: np.ndarray,
    seed: int, progress: Progress | None,
) -> Iterator[GeneratedBlock]:
    """Firms are simulated CHUNK at a time with their own random streams: the result depends on the seed only,
    and the working arrays stay small enough to be fast and to bound memory."""
    starts = range(0, len(f.survivor), CHUNK)
    if progress is not None:
        progress(SIMULATING, 0, len(starts))
    for k, start in enumerate(starts):
        part = slice(start, start + CHUNK)
        grids, expiry = _simulate_chunk(f.subset(part), province[part], years, active[part], (seed, k))
        firm_level = {name: values[part] for name, values in identity.items()}
        firm_level["hitech_cert_expiry"] = expiry.astype("datetime64[ns]")
        yield _assemble(years, active[part], grids, firm_level)
        del grids, expiry, firm_level  # one block's arrays at a time: not alive while the next is simulated
        if progress is not None and len(starts) > 1:
            progress(SIMULATING, k + 1, len(starts))


def _simulate_chunk(
    f: Firms, province: np.ndarray, years: np.ndarray, active: np.ndarray, seed: Seed
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(firms × years) grids of every yearly field; cells outside a firm's life are dropped by the caller."""
    paths = simulate_revenue(f, years, seed)
    level, revenue = paths.level, paths.revenue
    age = years[None, :] - f.reg_year[:, None]
    grids = staff(f, level, age == 0, seed)
    grids.update(finances(f, level, revenue, seed))
    grids.update(simulate_ip(f, grids["rd_expense"], age, active, seed))
    ip1, ip2 = grids["ip_class1"], grids["ip_class2"]
    grids["hitech_cert"], expiry = hitech_certificates(f, years, age, level - LN_1000, ip1, ip2, active, seed)
    grids.update(recognition(f, province, age, level, ip1, ip2, active, seed))
    grids.update(business_profile(f, years, age, level, revenue, seed))
    grids.update(financing_and_incidents(f, years, age, level, seed))
    # The hidden state of revenue, for the oracle ranking (tiering.datasets.oracle); no field of the panel.
    grids.update({HIDDEN_AGE: age, HIDDEN_LEVEL: level,
                  HIDDEN_TRANSIENT: paths.transient, HIDDEN_PART_YEAR: paths.part_year})
    return grids, expiry


def _identity(f: Firms, places: Places, seed: int) -> dict[str, np.ndarray]:
    """Every firm's fields that do not change over the years (but its 高企 certificate expiry), drawn for all
    firms at once from one stream: codes and names are unique over the whole register."""
    rng = stream(seed, "identity")
    n = len(f.survivor)
    districts = [p for p, _ in places]
    admin = np.array([p.admin_code for p in districts])[f.district]
    for k, place in enumerate(districts):
        if place.old_admin_code and place.renamed_in:
            admin = np.where((f.district == k) & (f.reg_year < place.renamed_in), place.old_admin_code, admin)
    usccs = make_usccs(admin, f.reg_year >= NEW_STYLE_FROM, rng)
    words = np.empty(n, dtype=object)
    for industry, choices in dist.INDUSTRY_WORDS.items():
        members = np.flatnonzero(f.industry == industry)
        words[members] = np.asarray(choices, dtype=object)[rng.integers(0, len(choices), size=len(members))]
    prefixes = np.array([p.name_prefix for p in districts])[f.district]
    names = make_names(prefixes, words.astype(str), rng)
    owner_names, owner_shares = zip(*OWNERSHIP, strict=True)
    ownership = np.asarray(owner_names)[rng.choice(len(owner_names), size=n, p=np.array(owner_shares))]
    return {
        "uscc": usccs,
        "name": names,
        "registration_date": f.reg_date.astype("datetime64[ns]"),
        "province": np.array([p.province for p in districts])[f.district],
        "district": np.array([p.name for p in districts])[f.district],
        "industry": f.industry,
        "ownership": ownership,
        "resident_enterprise": (rng.uniform(size=n) < 0.99).astype(float),
        "independent_legal_person": (rng.uniform(size=n) < 0.99).astype(float),
    }


def _assemble(
    years: np.ndarray, active: np.ndarray, grids: dict[str, np.ndarray], firm_level: dict[str, np.ndarray],
) -> GeneratedBlock:
    """The rows of one block of firms: ``active`` and the (firms × years) ``grids`` are the block's."""
    firm_rows, year_cols = np.nonzero(active)
    cells = np.flatnonzero(active)
    yearly = {name: grid.ravel().take(cells) for name, grid in grids.items()}
    columns: dict[str, object] = {}
    for field in FIELDS:
        if field.id == "year":
            columns["year"] = years[year_cols].astype(np.int64)
        elif field.id in firm_level:
            values = firm_level[field.id]
            # convert each firm's text once and repeat it by position: far cheaper than per row
            columns[field.id] = (
                pd.array(values, dtype="str").take(firm_rows) if values.dtype.kind == "U" else values[firm_rows]
            )
        elif field.id in yearly:
            columns[field.id] = yearly[field.id].astype(np.float64, copy=False)
        else:
            columns[field.id] = _blank(field.dtype, len(firm_rows))
    hidden = pd.DataFrame({"uscc": columns["uscc"], "year": columns["year"],
                           **{name: yearly[name] for name in HIDDEN_COLUMNS[2:]}})
    return GeneratedBlock(panel=pd.DataFrame(columns, copy=False), hidden=hidden)


def _blank(dtype: DType, length: int) -> object:
    if dtype is DType.DATE:
        return np.full(length, np.datetime64("NaT"), dtype="datetime64[ns]")
    if dtype is DType.TEXT:
        return pd.array([None] * length, dtype="str")
    return np.full(length, np.nan)
