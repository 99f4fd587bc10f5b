"""Measuring a pair (kip.engine.measure): what each measure is, worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import LineString, Point, box

from kip.engine.measure import Candidates, measure
from kip.engine.rules import Rule
from kip.models import ClashKind, ExcavationMode


def rule(rule_id: int, d: float, g: int, kind: ClashKind = ClashKind.CONFLICT) -> Rule:
    return Rule(
        id=rule_id,
        code=f"r{rule_id}",
        name="",
        kind=kind,
        max_distance_m=d,
        max_gap_days=g,
        excavation=ExcavationMode.ANY,
        repave_disciplines=(),
        disciplines=(),
        phases=("planned",),
        traffic_impacts=(),
    )


def pairs(*rows: tuple) -> Candidates:
    """rows: (rule_id, ga, gb, (sa, ea), (sb, eb), ia, ib)."""
    n = len(rows)
    col = list(zip(*rows, strict=True))
    ids = np.arange(1, n + 1, dtype=np.int64)
    return Candidates(
        rule_id=np.asarray(col[0], dtype=np.int64),
        work_a_id=ids,
        work_b_id=ids + 100,
        dig_ban_id=np.zeros(n, dtype=np.int64),
        ga=np.asarray(col[1], dtype=object),
        gb=np.asarray(col[2], dtype=object),
        sa=np.asarray([p[0] for p in col[3]], dtype=np.int64),
        ea=np.asarray([p[1] for p in col[3]], dtype=np.int64),
        sb=np.asarray([p[0] for p in col[4]], dtype=np.int64),
        eb=np.asarray([p[1] for p in col[4]], dtype=np.int64),
        ia=np.asarray(col[5], dtype=np.int8),
        ib=np.asarray(col[6], dtype=np.int8),
    )


def test_two_parallel_streets_thirty_metres_apart() -> None:
    a = LineString([(0, 0), (100, 0)])
    b = LineString([(0, 30), (100, 30)])
    m = measure(pairs((1, a, b, (0, 10), (10, 40), 0, 0)), [rule(1, 50, 0)])

    assert m.distance_m.tolist() == [30.0]
    assert (m.overlap_days.tolist(), m.gap_days.tolist()) == ([1], [0])
    assert m.shared_length_m.tolist() == [100.0]
    [where] = m.geom
    assert where.geom_type == "LineString" and where.length == pytest.approx(30)
    assert where.coords[0][1] == 0 and where.coords[-1][1] == 30  # from a to b
    # 35 x (1 - 30/50) + 25 x (0.5 + 0.5 x 1/90) + 20 x 100/100 + 20 x 0 = 46.64
    assert m.score.tolist() == [46.64]


def test_a_line_through_an_area_meets_it_where_it_runs_inside() -> None:
    area = box(0, 0, 40, 20)
    line = LineString([(-30, 10), (70, 10)])
    m = measure(pairs((1, line, area, (0, 0), (5, 9), 2, 0)), [rule(1, 25, 730)])

    assert m.distance_m.tolist() == [0.0]
    assert (m.overlap_days.tolist(), m.gap_days.tolist()) == ([0], [5])
    [where] = m.geom
    assert shapely.equals(where, LineString([(0, 10), (40, 10)]))
    # the line clipped to the area's box grown by 25 m runs 90 m; the area clipped to
    # the line's box grown by 25 m is the whole area, 40 m along its longest side
    assert m.shared_length_m.tolist() == [40.0]
    # 35 x 1 + 25 x 0.5 x (1 - 5/731) + 20 x 0.4 + 20 x 1 (closure)
    assert m.score.tolist() == [round(35 + 12.5 * (1 - 5 / 731) + 8 + 20, 2)]


def test_points_share_no_length_and_a_straight_line_with_no_margin_clips() -> None:
    # A rule with no distance at all: the other side's box of a straight line has no area.
    flat = LineString([(0, 0), (50, 0)])
    crossing = LineString([(20, -10), (20, 10)])
    m = measure(
        pairs(
            (1, flat, crossing, (0, 0), (0, 0), 0, 0),
            (1, Point(0, 0), Point(3, 4), (0, 0), (0, 0), 1, 0),
        ),
        [rule(1, 0, 0)],
    )
    assert m.distance_m.tolist() == [0.0, 5.0]
    assert m.shared_length_m.tolist() == [0.0, 0.0]
    assert shapely.equals(m.geom[0], Point(20, 0))
    assert shapely.equals(m.geom[1], LineString([(0, 0), (3, 4)]))


def test_many_pairs_on_two_threads_measure_as_one_by_one() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for k in range(25_000):
        x, y = rng.uniform(0, 1000, 2)
        a = LineString([(x, y), (x + rng.uniform(1, 80), y + rng.uniform(-5, 5))])
        b = box(x + rng.uniform(-30, 30), y + rng.uniform(-30, 30), x + 40, y + 40 + k % 7)
        rows.append((1 + k % 2, a, b, (k % 50, k % 50 + 10), (20, 60), k % 3, (k + 1) % 3))
    rules = [rule(1, 25, 365), rule(2, 50, 0)]
    together = measure(pairs(*rows), rules)
    alone = [measure(pairs(r), rules) for r in rows[:: len(rows) // 50]]
    picked = slice(None, None, len(rows) // 50)
    for name in ("distance_m", "overlap_days", "gap_days", "shared_length_m", "score"):
        assert getattr(together, name)[picked].tolist() == [getattr(m, name)[0] for m in alone]
    assert all(
        shapely.equals_exact(g, m.geom[0], 0)
        for g, m in zip(together.geom[picked], alone, strict=True)
    )


def test_the_cycle_collector_is_paused_while_a_town_is_made_and_then_as_it_was() -> None:
    import gc

    from kip.collector import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner pause does not switch it on again"
    assert gc.isenabled()
    try:
        with paused_gc():
            raise ValueError("a failed recompute")
    except ValueError:
        pass
    assert gc.isenabled(), "on again after a failure"
