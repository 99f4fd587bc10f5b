"""Measuring the pairs: in shapely, the same way on every path.

Whichever way the pairs were found - a SQL join for a save, a bulk or a draft, the in-memory
finder for a whole town - they arrive here as :class:`Candidates` (columns, one row per
pair: the rule, both sides' ids, geometries, days and traffic impact; the work with the
lower id is side ``a``) and are measured by :func:`measure`:

* the distance (metres, rounded to the millimetre);
* the days the periods share (inclusive), or the days between them;
* the shared stretch: each side clipped to the other's box grown by the rule's distance,
  and of those the shorter "reach" (a line's length, an area's longest side), to the
  centimetre;
* where they meet: the intersection when they touch or overlap, else the shortest line;
* the score (see :func:`score`).

One function for every path means one answer: a pair measured by a save and again by the
full recompute gets the same bits, so a recompute that finds nothing new writes nothing.
(PostGIS and shapely do not always pick the same one of several equally short lines.)
Vectorised and, for many pairs, on two threads: GEOS lets go of the GIL.

How the measured rows reach the storing statement is :mod:`kip.engine.found`'s business.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import date

import numpy as np
import shapely

from .rules import Rule

# Dates travel as days since this day; traffic impact as a small code.
EPOCH = date(2000, 1, 1)
EPOCH_SQL = "DATE '2000-01-01'"
IMPACT_CODES = {"none": 0, "lane": 1, "closure": 2}
_IMPACT_WEIGHT = np.array([0.0, 0.5, 1.0])
# From this many pairs on, measuring runs on two threads.
THREADED_MIN = 20_000
_MIN_PAD = 1e-6  # metres


def impact_code_sql(column: str) -> str:
    """SQL: the traffic impact in ``column`` as its code in :data:`IMPACT_CODES`."""
    return f"CAST(CASE {column} WHEN 'lane' THEN 1 WHEN 'closure' THEN 2 ELSE 0 END AS smallint)"


@dataclass(frozen=True)
class Candidates:
    """Pairs to measure, as columns. ``work_b_id`` or ``dig_ban_id`` is 0 where the pair
    has none; days count from :data:`EPOCH`; ``distance`` may come along when the finder
    measured it already (with the same function)."""

    rule_id: np.ndarray
    work_a_id: np.ndarray
    work_b_id: np.ndarray
    dig_ban_id: np.ndarray
    ga: np.ndarray
    gb: np.ndarray
    sa: np.ndarray
    ea: np.ndarray
    sb: np.ndarray
    eb: np.ndarray
    ia: np.ndarray
    ib: np.ndarray
    distance: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rule_id)

    @classmethod
    def from_rows(cls, rows: Sequence[tuple]) -> Candidates:
        """From rows shaped as :func:`candidates_sql` gives them."""
        if not rows:
            return cls.empty()
        cols = list(zip(*rows, strict=True))
        ints = [np.asarray(cols[k], dtype=np.int64) for k in (0, 1, 2, 3, 6, 7, 8, 9)]
        wkb = shapely.from_wkb(np.asarray(cols[4] + cols[5], dtype=object))
        n = len(rows)
        return cls(
            rule_id=ints[0],
            work_a_id=ints[1],
            work_b_id=ints[2],
            dig_ban_id=ints[3],
            ga=wkb[:n],
            gb=wkb[n:],
            sa=ints[4],
            ea=ints[5],
            sb=ints[6],
            eb=ints[7],
            ia=np.asarray(cols[10], dtype=np.int8),
            ib=np.asarray(cols[11], dtype=np.int8),
        )

    @classmethod
    def empty(cls) -> Candidates:
        i = np.empty(0, dtype=np.int64)
        g = np.empty(0, dtype=object)
        b = np.empty(0, dtype=np.int8)
        return cls(i, i, i, i, g, g, i, i, i, i, b, b)


def candidates_sql(pairs: str) -> str:
    """SQL: the pair rows of ``pairs`` (columns as :func:`pairs.pairs_sql` gives them),
    shaped for :meth:`Candidates.from_rows`."""
    return (
        "SELECT p.rule_id, p.work_a_id, coalesce(p.work_b_id, 0), coalesce(p.dig_ban_id, 0),"
        f" ST_AsBinary(p.ga), ST_AsBinary(p.gb), p.sa - {EPOCH_SQL}, p.ea - {EPOCH_SQL},"
        f" p.sb - {EPOCH_SQL}, p.eb - {EPOCH_SQL}, {impact_code_sql('p.ia')},"
        f" {impact_code_sql('p.ib')} FROM ({pairs}) p"
    )


@dataclass(frozen=True)
class Measured:
    """Measured pairs, as columns (ids 0 where the pair has none)."""

    rule_id: np.ndarray
    work_a_id: np.ndarray
    work_b_id: np.ndarray
    dig_ban_id: np.ndarray
    distance_m: np.ndarray
    overlap_days: np.ndarray
    gap_days: np.ndarray
    shared_length_m: np.ndarray
    score: np.ndarray
    geom: np.ndarray

    def __len__(self) -> int:
        return len(self.rule_id)


def measure(candidates: Candidates, rules: Sequence[Rule]) -> Measured:
    """Measure every pair (see the module's description)."""
    n = len(candidates)
    if n >= THREADED_MIN:
        half = n // 2
        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(
                lambda p: _measure(part_of(candidates, p), rules),
                (slice(0, half), slice(half, n)),
            )
        return Measured(
            **{
                f.name: np.concatenate([getattr(first, f.name), getattr(second, f.name)])
                for f in fields(Measured)
            }
        )
    return _measure(candidates, rules)


def part_of(c: Candidates, rows: slice) -> Candidates:
    """The rows ``rows`` of ``c``."""
    return Candidates(
        **{
            f.name: None if getattr(c, f.name) is None else getattr(c, f.name)[rows]
            for f in fields(Candidates)
        }
    )


def _measure(c: Candidates, rules: Sequence[Rule]) -> Measured:
    by_id = {r.id: r for r in rules}
    ids = np.asarray(sorted(by_id), dtype=np.int64)
    limits = np.asarray([by_id[i].max_distance_m for i in ids.tolist()], dtype=np.float64)
    windows = np.asarray([by_id[i].max_gap_days for i in ids.tolist()], dtype=np.int64)
    which = np.searchsorted(ids, c.rule_id) if len(ids) else np.zeros(len(c), dtype=np.int64)
    d = limits[which] if len(ids) else np.zeros(len(c))
    g = windows[which] if len(ids) else np.zeros(len(c), dtype=np.int64)

    dist = shapely.distance(c.ga, c.gb) if c.distance is None else c.distance
    distance_m = np.round(dist, 3)
    overlap = np.maximum(0, np.minimum(c.ea, c.eb) - np.maximum(c.sa, c.sb) + 1)
    gap = np.maximum(0, np.maximum(c.sa, c.sb) - np.minimum(c.ea, c.eb))
    shared = np.round(np.minimum(_reach(_clip(c.ga, c.gb, d)), _reach(_clip(c.gb, c.ga, d))), 2)

    touching = dist == 0
    geom = np.empty(len(c), dtype=object)
    if touching.any():
        geom[touching] = shapely.intersection(c.ga[touching], c.gb[touching])
    if (~touching).any():
        geom[~touching] = shapely.shortest_line(c.ga[~touching], c.gb[~touching])

    return Measured(
        rule_id=c.rule_id,
        work_a_id=c.work_a_id,
        work_b_id=c.work_b_id,
        dig_ban_id=c.dig_ban_id,
        distance_m=distance_m,
        overlap_days=overlap.astype(np.int32),
        gap_days=gap.astype(np.int32),
        shared_length_m=shared,
        score=score(distance_m, d, overlap, gap, g, shared, c.ia, c.ib),
        geom=geom,
    )


def _clip(x: np.ndarray, other: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``x`` clipped to the box of ``other`` grown by ``d``.

    ``shapely.clip_by_rect`` takes one rectangle for all; its ufunc takes one per row. A
    box must have an area: grown by at least a micrometre (a straight line's box has none).
    """
    box = shapely.bounds(other)
    pad = np.maximum(d, _MIN_PAD)
    return shapely.lib.clip_by_rect(
        x, box[:, 0] - pad, box[:, 1] - pad, box[:, 2] + pad, box[:, 3] + pad
    )


def _reach(x: np.ndarray) -> np.ndarray:
    """How far a shared part runs along the street: a line's length, an area's longest
    side; nothing for points or nothing at all."""
    out = np.zeros(len(x))
    present = ~shapely.is_empty(x) & ~shapely.is_missing(x)
    dims = np.full(len(x), -1)
    dims[present] = shapely.get_dimensions(x[present])
    lines = dims == 1
    out[lines] = shapely.length(x[lines])
    areas = dims == 2
    if areas.any():
        b = shapely.bounds(x[areas])
        out[areas] = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    return out


def score(
    distance_m: np.ndarray,
    d: np.ndarray,
    overlap_days: np.ndarray,
    gap_days: np.ndarray,
    g: np.ndarray,
    shared_length_m: np.ndarray,
    ia: np.ndarray,
    ib: np.ndarray,
) -> np.ndarray:
    """The score (0-100, two decimals) ranks what matters first: close in space (35), close
    or long together in time (25), a long shared stretch (20), traffic impact (20)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        space = np.where(d > 0, 1 - distance_m / np.where(d > 0, d, 1), 1.0)
    time = np.where(
        overlap_days > 0,
        0.5 + 0.5 * np.minimum(1.0, overlap_days / 90.0),
        0.5 * (1 - gap_days / (g + 1.0)),
    )
    length = np.minimum(1.0, shared_length_m / 100.0)
    impact = np.maximum(_IMPACT_WEIGHT[ia], _IMPACT_WEIGHT[ib])
    return np.round(100 * (0.35 * space + 0.25 * time + 0.20 * length + 0.20 * impact), 2)
