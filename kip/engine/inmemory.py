"""The full recompute's pair finder in memory: shapely STRtree, numpy, then exact distance.

For a whole town, reading every work once and pairing them in memory beats a self-join:

1. bounding-box candidates from an STRtree, the boxes grown by the rule's distance;
2. the time window and the rule's filters on those candidates, vectorised with numpy;
3. the exact distance (GEOS) of what is left, ``<=`` the limit.

Exactly at the limit, GEOS and PostGIS may disagree in the last bit of a float. Pairs whose
distance lies within :data:`EDGE_BAND` of the limit are therefore decided by PostGIS's
``ST_DWithin``, so this path answers exactly as the SQL path does (the property test in
``tests/test_engine_property.py`` holds both to a brute-force reference).

The pairs are measured (:mod:`.measure`) and written as those of every other path are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from ..collector import paused_gc
from ..models import ExcavationMode
from .measure import EPOCH_SQL, IMPACT_CODES, Candidates, impact_code_sql
from .pairs import SCOPE_TABLE
from .pgcopy import copy_payload, copy_rows
from .rules import Rule

EDGE_BAND = 1e-6  # metres
# From this many boxes (or pairs) on, the tree is searched (distances measured) on two threads.
THREADED_QUERY_MIN = 50_000
# The tree is searched with this many works' boxes at a time: the pairs of one chunk are
# measured and written while the next chunk is paired.
CHUNK = 100_000
# Rows per chunk of the town read.
TOWN_CHUNK = 50_000


class Town:
    """Every work that takes part in some rule, as numpy arrays and shapely geometries,
    in id order."""

    def __init__(self, session: Session, phases: set[str]) -> None:
        # Straight from the driver, in binary, without ORM rows, streamed in chunks (which
        # overlaps the server's work with the transfer: a third faster than fetching it
        # all at once); sorted here rather than by the server.
        raw = session.connection().connection.driver_connection
        query = (
            f"SELECT id, ST_AsBinary(geom), start_date - {EPOCH_SQL}, end_date - {EPOCH_SQL},"
            f" discipline_code, phase_code, excavation, {impact_code_sql('traffic_impact')}"
            " FROM works WHERE deleted_at IS NULL AND phase_code = ANY(%s)"
        )
        with raw.cursor(binary=True) as cur:
            rows = list(cur.stream(query, [sorted(phases)], size=TOWN_CHUNK))
        ids = np.asarray([r[0] for r in rows], dtype=np.int64)
        order = np.argsort(ids, kind="stable")

        def column(k: int, dtype: type | str) -> np.ndarray:
            return np.asarray([r[k] for r in rows], dtype=dtype)[order]

        self.ids = ids[order]
        self.geoms = shapely.from_wkb(column(1, object))
        self.start = column(2, np.int64)
        self.end = column(3, np.int64)
        # Disciplines and phases as small codes: numpy compares those fast, strings slowly.
        self.discipline, self._disciplines = _coded([r[4] for r in rows], order)
        self.phase, self._phases = _coded([r[5] for r in rows], order)
        self.excavation = column(6, bool)
        self.impact = column(7, np.int8)
        self.bounds = shapely.bounds(self.geoms) if len(self.ids) else np.empty((0, 4))

    def eligible(self, rule: Rule) -> np.ndarray:
        keep = np.isin(self.phase, self.phase_codes(rule.phases))
        if rule.disciplines:
            keep &= np.isin(self.discipline, self.discipline_codes(rule.disciplines))
        return np.flatnonzero(keep)

    def phase_codes(self, phases: Iterable[str]) -> list[int]:
        return [self._phases[p] for p in phases if p in self._phases]

    def discipline_codes(self, disciplines: Iterable[str]) -> list[int]:
        return [self._disciplines[d] for d in disciplines if d in self._disciplines]


def _coded(values: list, order: np.ndarray) -> tuple[np.ndarray, dict]:
    """``values`` (in the order ``order`` puts them) as integer codes, and the codes."""
    codes: dict = {}
    coded = np.fromiter((codes.setdefault(v, len(codes)) for v in values), np.int32, len(values))
    return coded[order], codes


def _query(tree: shapely.STRtree, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``tree.query(boxes)``, on two threads for a large town (GEOS lets go of the GIL)."""
    if len(boxes) < THREADED_QUERY_MIN:
        left, right = tree.query(boxes)
        return left, right
    half = len(boxes) // 2
    with ThreadPoolExecutor(2) as pool:
        (l1, r1), (l2, r2) = pool.map(tree.query, (boxes[:half], boxes[half:]))
    return np.concatenate([l1, l2 + half]), np.concatenate([r1, r2])


def _grown(bounds: np.ndarray, d: float) -> np.ndarray:
    """The boxes grown by ``d``, as the tree searches them: by their envelope - that of a
    diagonal line, which is made in two thirds of the time of a rectangle."""
    corners = np.empty((len(bounds), 2, 2))
    corners[:, 0, :] = bounds[:, :2] - d
    corners[:, 1, :] = bounds[:, 2:] + d
    return shapely.linestrings(corners) if len(bounds) else np.empty(0, dtype=object)


def _impact_ok(rule: Rule, *impacts: np.ndarray) -> np.ndarray | bool:
    if not rule.traffic_impacts:
        return True
    wanted = [IMPACT_CODES[v] for v in rule.traffic_impacts]
    ok = np.zeros(len(impacts[0]), dtype=bool)
    for imp in impacts:
        ok |= np.isin(imp, wanted)
    return ok


def _excavation_ok(rule: Rule, town: Town, i: np.ndarray, j: np.ndarray) -> np.ndarray | bool:
    ei, ej = town.excavation[i], town.excavation[j]
    mode = rule.excavation
    if mode is ExcavationMode.EITHER:
        return ei | ej
    if mode is ExcavationMode.BOTH:
        return ei & ej
    if mode is ExcavationMode.DIG_ONCE:
        repave = town.discipline_codes(rule.repave_disciplines)
        ri = np.isin(town.discipline[i], repave)
        rj = np.isin(town.discipline[j], repave)
        return (ei & ej) | (ei & rj) | (ej & ri)
    return True


def _within(ga, gb, d: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(surely within, on the edge: ask PostGIS, the distances)."""
    if len(ga) < THREADED_QUERY_MIN:
        dist = shapely.distance(ga, gb)
    else:
        half = len(ga) // 2
        with ThreadPoolExecutor(2) as pool:
            parts = pool.map(shapely.distance, (ga[:half], ga[half:]), (gb[:half], gb[half:]))
            dist = np.concatenate(list(parts))
    return dist <= d - EDGE_BAND, np.abs(dist - d) <= EDGE_BAND, dist


def _work_pairs(town: Town, rule: Rule, in_scope: np.ndarray | None) -> Iterator[_Found]:
    """The pairs of ``rule`` as town indices, :data:`CHUNK` boxes at a time; with
    ``in_scope`` (a mask over the town), only the pairs with at least one side in scope.
    Each pair once, its lower id first."""
    idx = town.eligible(rule)
    if len(idx) < 2:
        return
    d, g = rule.max_distance_m, rule.max_gap_days
    tree = shapely.STRtree(town.geoms[idx])
    ids = town.ids
    asked = idx if in_scope is None else idx[in_scope[idx]]
    for start in range(0, len(asked), CHUNK):
        part = asked[start : start + CHUNK]
        left, right = _query(tree, _grown(town.bounds[part], d))
        i, j = part[left], idx[right]
        keep = ids[i] < ids[j]
        if in_scope is not None:
            # A pair of two works in scope turns up from both sides: keep it once.
            keep |= ~in_scope[j]
        i, j = i[keep], j[keep]
        keep = (town.start[j] - town.end[i] <= g) & (town.start[i] - town.end[j] <= g)
        keep &= _excavation_ok(rule, town, i, j)
        keep &= _impact_ok(rule, town.impact[i], town.impact[j])
        # The town is in id order: the lower index is the lower id.
        i, j = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
        sure, edge, dist = _within(town.geoms[i], town.geoms[j], d)
        yield _Found(i, j, dist, sure, edge)


@dataclass(frozen=True)
class _Found:
    """Pairs as indices (into the town, and into the town or the dig bans), their
    distances, which are surely within the limit and which are on its edge."""

    i: np.ndarray
    j: np.ndarray
    dist: np.ndarray
    sure: np.ndarray
    edge: np.ndarray

    @classmethod
    def empty(cls) -> _Found:
        e = np.empty(0, dtype=np.int64)
        return cls(e, e, np.empty(0), np.empty(0, dtype=bool), np.empty(0, dtype=bool))


class _Bans:
    """The dig bans, as the in-memory path needs them."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(
            text(
                f"SELECT id, ST_AsBinary(geom), start_date - {EPOCH_SQL},"
                f" end_date - {EPOCH_SQL} FROM dig_bans ORDER BY id"
            )
        ).all()
        self.ids = np.asarray([r[0] for r in rows], dtype=np.int64)
        self.geoms = shapely.from_wkb(np.asarray([r[1] for r in rows], dtype=object))
        self.start = np.asarray([r[2] for r in rows], dtype=np.int64)
        self.end = np.asarray([r[3] for r in rows], dtype=np.int64)


def _ban_pairs(town: Town, bans: _Bans, rule: Rule, in_scope: np.ndarray | None) -> _Found:
    idx = town.eligible(rule)
    if in_scope is not None:
        idx = idx[in_scope[idx]]
    if not len(bans.ids) or not len(idx):
        return _Found.empty()
    d, g = rule.max_distance_m, rule.max_gap_days
    tree = shapely.STRtree(bans.geoms)
    left, right = tree.query(_grown(town.bounds[idx], d))
    i, v = idx[left], right
    keep = (bans.start[v] - town.end[i] <= g) & (town.start[i] - bans.end[v] <= g)
    if rule.excavation is not ExcavationMode.ANY:
        keep &= town.excavation[i]
    keep &= _impact_ok(rule, town.impact[i])
    i, v = i[keep], v[keep]
    sure, edge, dist = _within(town.geoms[i], bans.geoms[v], d)
    return _Found(i, v, dist, sure, edge)


def _edge_decided(session: Session, rule: Rule, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Which of the on-the-edge pairs (ids ``a``, ``b``) PostGIS counts as within the limit."""
    if not len(a):
        return np.zeros(0, dtype=bool)
    other = "dig_bans" if rule.against_dig_bans else "works"
    rows = session.execute(
        text(
            "SELECT ST_DWithin(a.geom, b.geom, :d) FROM unnest(CAST(:a AS bigint[]),"
            f" CAST(:b AS bigint[])) WITH ORDINALITY AS t(a, b, n)"
            f" JOIN works a ON a.id = t.a JOIN {other} b ON b.id = t.b ORDER BY t.n"
        ),
        {"d": rule.max_distance_m, "a": a.tolist(), "b": b.tolist()},
    ).scalars()
    return np.fromiter(rows, dtype=bool, count=len(a))


def candidate_parts(
    session: Session, rules: list[Rule], scope_ids: tuple[int, ...] | None = None
) -> Iterator[Candidates]:
    """Every pair of every rule, ready to measure, a part at a time (the pairs of
    :data:`CHUNK` works), so that one part can be measured and written while the next is
    found; with ``scope_ids``, only the pairs in which one of those works takes part. The
    town is read when the first part is asked for."""
    phases = set().union(*(r.phases for r in rules)) if rules else set()
    town = Town(session, phases)
    in_scope = None if scope_ids is None else np.isin(town.ids, np.asarray(scope_ids))
    bans = _Bans(session) if any(r.against_dig_bans for r in rules) else None
    for rule in rules:
        if rule.against_dig_bans:
            assert bans is not None
            founds: Iterable[_Found] = [_ban_pairs(town, bans, rule, in_scope)]
            other_ids = bans.ids
        else:
            founds = _work_pairs(town, rule, in_scope)
            other_ids = town.ids
        for found in founds:
            take = found.sure
            if found.edge.any():
                edge = np.flatnonzero(found.edge)
                a, b = town.ids[found.i[edge]], other_ids[found.j[edge]]
                take = take.copy()
                take[edge[_edge_decided(session, rule, a, b)]] = True
            if take.any():
                i, j = found.i[take], found.j[take]
                yield _candidates(town, bans, rule, i, j, found.dist[take])


def _candidates(
    town: Town, bans: _Bans | None, rule: Rule, i: np.ndarray, j: np.ndarray, dist: np.ndarray
) -> Candidates:
    """Pairs of the town's works ``i`` with the works (or, for a dig-ban rule, the bans)
    ``j``, ready to measure."""
    none = np.zeros(len(i), dtype=np.int64)
    if rule.against_dig_bans:
        assert bans is not None
        other, work_b, ban = bans, none, bans.ids[j]
        impact_b = np.zeros(len(i), dtype=np.int8)
    else:
        other, work_b, ban = town, town.ids[j], none
        impact_b = town.impact[j]
    return Candidates(
        rule_id=np.full(len(i), rule.id, dtype=np.int64),
        work_a_id=town.ids[i],
        work_b_id=work_b,
        dig_ban_id=ban,
        ga=town.geoms[i],
        gb=other.geoms[j],
        sa=town.start[i],
        ea=town.end[i],
        sb=other.start[j],
        eb=other.end[j],
        ia=town.impact[i],
        ib=impact_b,
        distance=dist,
    )


def find_pairs(
    session: Session, rules: list[Rule], scope_ids: tuple[int, ...] | None = None
) -> np.ndarray:
    """Every pair of every rule, as rows (rule_id, work_a_id, work_b_id or 0, dig_ban_id or 0);
    with ``scope_ids``, only the pairs in which one of those works takes part."""
    with paused_gc():
        parts = [
            np.column_stack([c.rule_id, c.work_a_id, c.work_b_id, c.dig_ban_id])
            for c in candidate_parts(session, rules, scope_ids)
        ]
    return np.concatenate(parts).astype(np.int64) if parts else np.empty((0, 4), dtype=np.int64)


def copy_scope(session: Session, ids: tuple[int, ...]) -> None:
    """The works of a large scope, as a temporary table (:data:`pairs.SCOPE_TABLE`): the
    pair and clash statements join it instead of searching a long array row by row."""
    session.execute(
        text(
            f"CREATE TEMP TABLE IF NOT EXISTS {SCOPE_TABLE} (id bigint PRIMARY KEY) ON COMMIT DROP"
        )
    )
    session.execute(text(f"TRUNCATE {SCOPE_TABLE}"))
    payload = copy_payload([("id", ">i8")], {"id": np.asarray(ids, dtype=np.int64)})
    copy_rows(session.connection().connection.driver_connection, SCOPE_TABLE, payload)
