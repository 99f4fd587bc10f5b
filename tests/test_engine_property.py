"""Three sizes, one answer: saving works one by one, recomputing a set of works, the full
recompute (SQL and in memory) and the draft check all give exactly the pairs of a plain
brute-force reference (shapely distance, date arithmetic), edges included.

Geometries have integer coordinates and axis-aligned sides whose lengths are powers of two,
so every distance - exactly 25 or 50 m included - is computed without rounding by shapely
and PostGIS alike; the edges of the rules are then tested for real, not within a tolerance.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta
from itertools import combinations
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import LineString, MultiLineString, MultiPoint, Point, box
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kip import engine, geo
from kip.db import bound_srid
from kip.engine import inmemory
from kip.engine import store as engine_store
from kip.models import Clash, ClashStatus, DigBan
from kip.services.works import WorkData, create_work, delete_work

X, Y = 174000, 450000
DAY0 = date(2027, 1, 1)
TAKES_PART = {"planned", "design"}
SIDES = [1, 2, 4, 8, 16, 32, 64]

coord = st.integers(0, 120)
side = st.sampled_from(SIDES)


@st.composite
def shapes(draw):
    x, y = draw(coord), draw(coord)
    kind = draw(st.sampled_from(["point", "hline", "vline", "box", "mpoint", "mline"]))
    if kind == "point":
        return Point(X + x, Y + y)
    if kind == "hline":
        return LineString([(X + x, Y + y), (X + x + draw(side), Y + y)])
    if kind == "vline":
        return LineString([(X + x, Y + y), (X + x, Y + y + draw(side))])
    if kind == "box":
        return box(X + x, Y + y, X + x + draw(side), Y + y + draw(side))
    x2, y2 = draw(coord), draw(coord)
    if kind == "mpoint":
        if (x, y) == (x2, y2):
            x2 += 1
        return MultiPoint([(X + x, Y + y), (X + x2, Y + y2)])
    return MultiLineString(
        [
            [(X + x, Y + y), (X + x + draw(side), Y + y)],
            [(X + x2, Y + y2), (X + x2, Y + y2 + draw(side))],
        ]
    )


@st.composite
def works(draw):
    start = draw(st.integers(0, 1600))
    return {
        "geometry": draw(shapes()),
        "start": DAY0 + timedelta(days=start),
        "end": DAY0 + timedelta(days=start + draw(st.sampled_from([0, 1, 30, 200, 731]))),
        "discipline": draw(st.sampled_from(["sewer", "road", "lighting"])),
        "phase": draw(st.sampled_from(["planned", "design", "completed", "cancelled"])),
        "excavation": draw(st.booleans()),
        "deleted": draw(st.booleans()) and draw(st.booleans()),
    }


@st.composite
def bans(draw):
    start = draw(st.integers(0, 1600))
    x, y = draw(coord), draw(coord)
    return {
        "geometry": box(X + x, Y + y, X + x + draw(side), Y + y + draw(side)),
        "start": DAY0 + timedelta(days=start),
        "end": DAY0 + timedelta(days=start + draw(st.sampled_from([0, 365, 1095]))),
    }


def gap_days(a: dict, b: dict) -> int:
    return max(0, (max(a["start"], b["start"]) - min(a["end"], b["end"])).days)


def reference(ws: list[dict], bs: list[dict], rule_ids: dict[str, int]) -> set[tuple]:
    """Brute force, straight from DESIGN.md."""
    expected = set()
    live = [w for w in ws if not w["deleted"] and w["phase"] in TAKES_PART]
    for a, b in combinations(sorted(live, key=lambda w: w["id"]), 2):
        distance = a["geometry"].distance(b["geometry"])
        overlap = max(a["start"], b["start"]) <= min(a["end"], b["end"])
        if distance <= 50 and overlap:
            expected.add((rule_ids["simultaneous"], a["id"], b["id"], None))
        digs = (
            (a["excavation"] and b["excavation"])
            or (a["excavation"] and b["discipline"] == "road")
            or (b["excavation"] and a["discipline"] == "road")
        )
        if distance <= 25 and gap_days(a, b) <= 730 and digs:
            expected.add((rule_ids["dig_once"], a["id"], b["id"], None))
    for w in live:
        for ban in bs:
            if (
                w["excavation"]
                and w["geometry"].intersects(ban["geometry"])
                and max(w["start"], ban["start"]) <= min(w["end"], ban["end"])
            ):
                expected.add((rule_ids["dig_ban"], w["id"], None, ban["id"]))
    return expected


def stored_open(session: Session) -> set[tuple]:
    rows = session.execute(
        select(Clash.rule_id, Clash.work_a_id, Clash.work_b_id, Clash.dig_ban_id).where(
            Clash.status != ClashStatus.RESOLVED
        )
    ).all()
    return {tuple(r) for r in rows}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ws=st.lists(works(), min_size=2, max_size=10), bs=st.lists(bans(), max_size=2))
def test_three_sizes_give_the_pairs_of_the_brute_force_reference(
    session: Session, actor, ws: list[dict], bs: list[dict]
) -> None:
    nested = session.begin_nested()
    try:
        _check(session, actor, ws, bs)
    finally:
        nested.rollback()


def _check(session: Session, actor, ws: list[dict], bs: list[dict]) -> None:
    org_id = session.execute(
        text("INSERT INTO organisations (name, kind) VALUES ('P', 'other') RETURNING id")
    ).scalar_one()
    rule_ids = {r.code: r.id for r in engine.load_rules(session)}
    for b in bs:
        ban = DigBan(
            organisation_id=org_id,
            title="ban",
            geom=geo.to_db(b["geometry"], bound_srid()),
            start_date=b["start"],
            end_date=b["end"],
        )
        session.add(ban)
        session.flush()
        b["id"] = ban.id

    # (a) one work at a time, through the service, as a planner saves them.
    for w in ws:
        work = create_work(
            session,
            actor,
            org_id,
            WorkData(
                title="w",
                discipline=w["discipline"],
                phase=w["phase"],
                geometry=w["geometry"],
                start_date=w["start"],
                end_date=w["end"],
                excavation=w["excavation"],
            ),
        )
        w["id"], w["work"] = work.id, work
    for w in ws:
        if w["deleted"]:
            delete_work(session, actor, w["work"], w["work"].version)
    expected = reference(ws, bs, rule_ids)
    assert stored_open(session) == expected, "saving one work at a time"

    # The draft check: the pairs of one work, without saving.
    w = ws[0]
    draft = engine.Draft(
        geometry=w["geometry"],
        start_date=w["start"],
        end_date=w["end"],
        discipline=w["discipline"],
        phase=w["phase"],
        excavation=w["excavation"],
        traffic_impact="none",
        work_id=w["id"],
    )
    drafted = {f.key for f in engine.check_draft(session, draft)}
    mine = {
        k
        for k in reference(
            [{**x, "deleted": x["deleted"] and x is not w} for x in ws], bs, rule_ids
        )
        if w["id"] in (k[1], k[2])
    }
    assert drafted == mine, "checking a draft"

    # (b) a set of works, from scratch: two halves, set-based - the ids as an array, as a
    # temporary table, and paired in memory (what a bulk import of a large file uses);
    # each with the measured pairs stored in one statement, and in parts of three.
    ids = [x["id"] for x in ws]
    for parts in (False, True):
        with in_parts(parts):
            for method in ("array", "table", "memory"):
                session.execute(text("DELETE FROM clashes"))
                engine.recompute_works(session, ids[::2], method=method)
                engine.recompute_works(session, ids[1::2], method=method)
                assert stored_open(session) == expected, f"a set of works ({method}, {parts})"

            # (c) everything, with the SQL join and with the in-memory pair finder.
            session.execute(text("DELETE FROM clashes"))
            engine.recompute_all(session)
            assert stored_open(session) == expected, f"full recompute (SQL, {parts})"
            session.execute(text("DELETE FROM clashes"))
            engine.recompute_all(session, in_memory=True)
            assert stored_open(session) == expected, f"full recompute (in memory, {parts})"
    assert stored_measures(session) == measures(ws, bs, expected), "the measures"

    # Every path measures a pair alike: once stored, none of them finds anything to write.
    again = []
    for parts in (False, True):
        with in_parts(parts):
            again += [engine.recompute_all(session), engine.recompute_all(session, in_memory=True)]
            again += [
                engine.recompute_works(session, ids, method=m) for m in ("array", "table", "memory")
            ]
    again += [engine.recompute_works(session, [i]) for i in ids]
    assert [(o.new, o.changed, o.resolved, o.reopened) for o in again] == [(0, 0, 0, 0)] * len(
        again
    ), "measured again by another path"


@contextmanager
def in_parts(parts: bool):
    """With ``parts``, the engine stores even a few pairs the way it stores many: in parts
    (here of three pairs), the next part measured while one is written, and the in-memory
    finder searches its tree two works at a time."""
    if not parts:
        yield
        return
    with (
        patch.object(engine, "PARAMETERS_MAX", 0),
        patch.object(engine_store, "PART", 3),
        patch.object(inmemory, "CHUNK", 2),
    ):
        yield


def measures(ws: list[dict], bs: list[dict], keys: set[tuple]) -> dict[tuple, tuple]:
    """Distance (mm), days shared and days between, straight from the geometries and dates."""
    works_by_id = {w["id"]: w for w in ws}
    bans_by_id = {b["id"]: b for b in bs}
    out = {}
    for key in keys:
        a = works_by_id[key[1]]
        b = works_by_id[key[2]] if key[2] is not None else bans_by_id[key[3]]
        shared = (min(a["end"], b["end"]) - max(a["start"], b["start"])).days + 1
        out[key] = (round(a["geometry"].distance(b["geometry"]), 3), max(0, shared), gap_days(a, b))
    return out


def stored_measures(session: Session) -> dict[tuple, tuple]:
    rows = session.execute(
        select(
            Clash.rule_id,
            Clash.work_a_id,
            Clash.work_b_id,
            Clash.dig_ban_id,
            Clash.distance_m,
            Clash.overlap_days,
            Clash.gap_days,
        ).where(Clash.status != ClashStatus.RESOLVED)
    ).all()
    return {tuple(r[:4]): tuple(r[4:]) for r in rows}


def test_the_box_search_on_two_threads_finds_what_one_thread_finds(monkeypatch) -> None:
    """A large town's tree is searched (and its pairs measured) on two threads; the halves
    must join up exactly."""
    import numpy as np
    import shapely

    from kip.engine import inmemory

    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 2_000, 3_001), rng.uniform(0, 2_000, 3_001)
    geoms = shapely.points(x, y)
    boxes = shapely.box(x - 30, y - 30, x + 30, y + 30)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(boxes)
    one_thread = set(zip(left.tolist(), right.tolist(), strict=True))

    monkeypatch.setattr(inmemory, "THREADED_QUERY_MIN", 100)
    left, right = inmemory._query(tree, boxes)
    two_threads = list(zip(left.tolist(), right.tolist(), strict=True))

    assert len(one_thread) > 3_001  # neighbours found, not only each point itself
    assert len(two_threads) == len(one_thread) and set(two_threads) == one_thread

    # The grown boxes the engine searches with (diagonal lines) have the boxes' envelopes.
    grown = inmemory._grown(np.column_stack([x, y, x, y]), 30.0)
    assert np.array_equal(shapely.bounds(grown), shapely.bounds(boxes))
    left, right = inmemory._query(tree, grown)
    assert set(zip(left.tolist(), right.tolist(), strict=True)) == one_thread

    # Distances of many pairs are measured on two threads, each pair as on one.
    a, b = geoms[left], geoms[right]
    _, _, dist = inmemory._within(a, b, 30.0)
    assert len(a) > 100 and np.array_equal(dist, shapely.distance(a, b))
