"""Finding the pairs, and measuring them: one SQL text for every size of the question.

:func:`pairs_sql` writes the candidate pairs of a :class:`Scope` (all works, some works,
some dig bans, or a draft that is not saved) as one ``UNION ALL`` over the rules. Each row
carries both sides' geometry, dates and traffic impact, oriented so that the work with the
lower id is side ``a`` (a pair is unordered). :func:`measured_sql` wraps any such source -
also the pairs the in-memory path found - and measures them the same way: distance, days of
overlap or gap, the shared stretch, where they meet, and the score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import shapely
from shapely.geometry.base import BaseGeometry

from ..db import bound_srid
from .rules import Rule, pair_filter, parameters, work_filter


@dataclass(frozen=True)
class Draft:
    """A work that is not saved (or the new state of one that is): what would it clash with?"""

    geometry: BaseGeometry  # in the project CRS
    start_date: date
    end_date: date
    discipline: str
    phase: str
    excavation: bool
    traffic_impact: str
    # The work this draft would replace: it does not clash with itself.
    work_id: int = 0


# A scope of many works is a temporary table of their ids (see :func:`inmemory.copy_scope`)
# rather than an array parameter, which PostgreSQL would search row by row.
SCOPE_TABLE = "engine_scope"


@dataclass(frozen=True)
class Scope:
    """Which pairs to find: ``everything``, or those of some works, dig bans or a draft.

    ``via_table``: the work ids are in :data:`SCOPE_TABLE` (for the statements; the ids
    stay here too).
    """

    everything: bool = False
    work_ids: tuple[int, ...] = ()
    dig_ban_ids: tuple[int, ...] = ()
    draft: Draft | None = None
    params: dict = field(default_factory=dict, compare=False)
    via_table: bool = False

    def has_work(self, column: str) -> str:
        """SQL: ``column`` is one of the scope's works."""
        if self.via_table:
            return f"{column} IN (SELECT id FROM {SCOPE_TABLE})"
        return f"{column} = ANY(:scope_works)"

    @classmethod
    def all(cls) -> Scope:
        return cls(everything=True)

    @classmethod
    def works(cls, ids) -> Scope:
        return cls(work_ids=tuple(sorted({int(i) for i in ids})))

    @classmethod
    def dig_bans(cls, ids) -> Scope:
        return cls(dig_ban_ids=tuple(sorted({int(i) for i in ids})))

    @classmethod
    def of_draft(cls, draft: Draft) -> Scope:
        return cls(draft=draft)


_DRAFT_SOURCE = (
    "(SELECT CAST(:draft_id AS bigint) AS id,"
    " ST_GeomFromWKB(:draft_geom, CAST(:draft_srid AS integer)) AS geom,"
    " CAST(:draft_start AS date) AS start_date, CAST(:draft_end AS date) AS end_date,"
    " CAST(:draft_discipline AS varchar) AS discipline_code,"
    " CAST(:draft_phase AS varchar) AS phase_code, CAST(:draft_excavation AS boolean)"
    " AS excavation, CAST(:draft_impact AS varchar) AS traffic_impact)"
)


def _source(scope: Scope) -> str:
    return _DRAFT_SOURCE if scope.draft is not None else "works"


def _near(rule: Rule, p: str, other: str) -> str:
    """``other`` is near ``a`` in space and in time (one GiST scan on (geom, period))."""
    return (
        f"ST_DWithin(a.geom, {other}.geom, CAST(:{p}_d AS float8))"
        f" AND {other}.period && daterange(a.start_date - CAST(:{p}_g AS integer),"
        f" a.end_date + CAST(:{p}_g AS integer), '[]')"
    )


def _work_pairs(rule: Rule, p: str, scope: Scope) -> str | None:
    if scope.dig_ban_ids and not scope.work_ids and not scope.everything:
        return None
    if scope.everything:
        where = "a.id < b.id"
    elif scope.draft is not None:
        where = "b.id <> a.id"
    else:
        # Each pair once: from its lower-id side when both sides are in scope.
        where = (
            f"{scope.has_work('a.id')} AND b.id <> a.id"
            f" AND NOT (b.id < a.id AND {scope.has_work('b.id')})"
        )
    alive_a = "" if scope.draft is not None else "a.deleted_at IS NULL AND "

    def lo(col: str) -> str:
        return f"CASE WHEN a.id < b.id THEN a.{col} ELSE b.{col} END"

    def hi(col: str) -> str:
        return f"CASE WHEN a.id < b.id THEN b.{col} ELSE a.{col} END"

    return (
        f"SELECT CAST(:{p}_id AS bigint) AS rule_id, CAST(:{p}_kind AS varchar) AS kind,"
        f" CAST(:{p}_d AS float8) AS d, CAST(:{p}_g AS integer) AS g,"
        " least(a.id, b.id) AS work_a_id, greatest(a.id, b.id) AS work_b_id,"
        " CAST(NULL AS bigint) AS dig_ban_id,"
        f" {lo('geom')} AS ga, {hi('geom')} AS gb,"
        f" {lo('start_date')} AS sa, {lo('end_date')} AS ea,"
        f" {hi('start_date')} AS sb, {hi('end_date')} AS eb,"
        f" CAST({lo('traffic_impact')} AS varchar) AS ia,"
        f" CAST({hi('traffic_impact')} AS varchar) AS ib"
        f" FROM {_source(scope)} a JOIN works b ON {_near(rule, p, 'b')}"
        f" WHERE {alive_a}b.deleted_at IS NULL AND {where}"
        f" AND {work_filter(rule, 'a', p)} AND {work_filter(rule, 'b', p)}"
        f" AND {pair_filter(rule, 'a', 'b', p)}"
    )


def _ban_pairs(rule: Rule, p: str, scope: Scope) -> str | None:
    if scope.everything or scope.draft is not None:
        where = "TRUE"
    elif scope.dig_ban_ids:
        where = "v.id = ANY(:scope_bans)"
        if scope.work_ids:
            where = f"({where} OR {scope.has_work('a.id')})"
    else:
        where = scope.has_work("a.id")
    alive_a = "" if scope.draft is not None else "a.deleted_at IS NULL AND "
    return (
        f"SELECT CAST(:{p}_id AS bigint) AS rule_id, CAST(:{p}_kind AS varchar) AS kind,"
        f" CAST(:{p}_d AS float8) AS d, CAST(:{p}_g AS integer) AS g,"
        " a.id AS work_a_id, CAST(NULL AS bigint) AS work_b_id, v.id AS dig_ban_id,"
        " a.geom AS ga, v.geom AS gb, a.start_date AS sa, a.end_date AS ea,"
        " v.start_date AS sb, v.end_date AS eb,"
        " CAST(a.traffic_impact AS varchar) AS ia, CAST('none' AS varchar) AS ib"
        f" FROM {_source(scope)} a JOIN dig_bans v ON {_near(rule, p, 'v')}"
        f" WHERE {alive_a}{where} AND {work_filter(rule, 'a', p)}"
        f" AND {pair_filter(rule, 'a', None, p)}"
    )


def pairs_sql(rules: list[Rule], scope: Scope) -> tuple[str, dict]:
    """The candidate pairs of ``scope`` under ``rules``: SQL text and its parameters."""
    parts, params = [], {}
    for i, rule in enumerate(rules):
        p = f"r{i}"
        sql = _ban_pairs(rule, p, scope) if rule.against_dig_bans else _work_pairs(rule, p, scope)
        if sql is None:
            continue
        parts.append(sql)
        params.update(parameters(rule, p))
    params.update(scope_parameters(scope))
    if not parts:
        parts.append(_EMPTY)
    return " UNION ALL ".join(f"({s})" for s in parts), params


def scope_parameters(scope: Scope) -> dict:
    works = [] if scope.via_table else list(scope.work_ids)
    params: dict = {"scope_works": works, "scope_bans": list(scope.dig_ban_ids)}
    if scope.draft is not None:
        d = scope.draft
        params.update(
            draft_id=d.work_id,
            draft_geom=shapely.to_wkb(d.geometry),
            draft_srid=bound_srid(),
            draft_start=d.start_date,
            draft_end=d.end_date,
            draft_discipline=d.discipline,
            draft_phase=d.phase,
            draft_excavation=d.excavation,
            draft_impact=d.traffic_impact,
        )
    return params


_EMPTY = (
    "SELECT CAST(NULL AS bigint) AS rule_id, CAST(NULL AS varchar) AS kind,"
    " CAST(NULL AS float8) AS d, CAST(NULL AS integer) AS g,"
    " CAST(NULL AS bigint) AS work_a_id, CAST(NULL AS bigint) AS work_b_id,"
    " CAST(NULL AS bigint) AS dig_ban_id, CAST(NULL AS geometry) AS ga,"
    " CAST(NULL AS geometry) AS gb, CAST(NULL AS date) AS sa, CAST(NULL AS date) AS ea,"
    " CAST(NULL AS date) AS sb, CAST(NULL AS date) AS eb, CAST(NULL AS varchar) AS ia,"
    " CAST(NULL AS varchar) AS ib WHERE FALSE"
)


def _reach(x: str) -> str:
    """How far a shared part runs along the street: a line's length, an area's longest side."""
    return (
        f"CASE WHEN {x} IS NULL OR ST_IsEmpty({x}) THEN 0"
        f" WHEN ST_Dimension({x}) = 1 THEN ST_Length({x})"
        f" WHEN ST_Dimension({x}) = 2 THEN greatest(ST_XMax({x}) - ST_XMin({x}),"
        f" ST_YMax({x}) - ST_YMin({x})) ELSE 0 END"
    )


_IMPACT = "CASE {0} WHEN 'closure' THEN 1.0 WHEN 'lane' THEN 0.5 ELSE 0.0 END"

# The score (0-100) ranks what matters first: close in space (35), close or long together in
# time (25), a long shared stretch (20), traffic impact (20).
_SCORE = (
    "round(CAST(100 * ("
    " 0.35 * CASE WHEN m.d > 0 THEN 1 - m.distance_m / m.d ELSE 1 END"
    " + 0.25 * CASE WHEN m.overlap_days > 0"
    "   THEN 0.5 + 0.5 * least(1.0, m.overlap_days / 90.0)"
    "   ELSE 0.5 * (1 - m.gap_days / (m.g + 1.0)) END"
    " + 0.20 * least(1.0, m.shared_length_m / 100.0)"
    f" + 0.20 * greatest({_IMPACT.format('m.ia')}, {_IMPACT.format('m.ib')})"
    ") AS numeric), 2)"
)


def measured_sql(pairs: str) -> str:
    """Measure the pairs of the SQL source ``pairs`` (columns as :func:`pairs_sql` gives).

    The geometry functions run once per pair in a lateral subquery that ``OFFSET 0`` keeps
    apart: without it PostgreSQL inlines the subquery and computes a clipped geometry again
    for every place the shared length looks at it (up to eight times).
    """
    return (
        "SELECT m.rule_id, m.kind, m.work_a_id, m.work_b_id, m.dig_ban_id, m.distance_m,"
        " m.overlap_days, m.gap_days, m.shared_length_m, m.geom,"
        f" CAST({_SCORE} AS float8) AS score"
        " FROM (SELECT p.rule_id, p.kind, p.d, p.g, p.work_a_id, p.work_b_id, p.dig_ban_id,"
        " p.ia, p.ib, CAST(round(CAST(x.dist AS numeric), 3) AS float8) AS distance_m,"
        " x.overlap_days, x.gap_days,"
        f" CAST(round(CAST(least({_reach('x.ca')}, {_reach('x.cb')}) AS numeric), 2)"
        " AS float8) AS shared_length_m,"
        " CASE WHEN x.dist = 0 THEN ST_Intersection(p.ga, p.gb)"
        " ELSE ST_ShortestLine(p.ga, p.gb) END AS geom"
        f" FROM ({pairs}) p CROSS JOIN LATERAL (SELECT ST_Distance(p.ga, p.gb) AS dist,"
        " greatest(0, least(p.ea, p.eb) - greatest(p.sa, p.sb) + 1) AS overlap_days,"
        " greatest(0, greatest(p.sa, p.sb) - least(p.ea, p.eb)) AS gap_days,"
        " ST_ClipByBox2D(p.ga, ST_Expand(Box2D(p.gb), p.d)) AS ca,"
        " ST_ClipByBox2D(p.gb, ST_Expand(Box2D(p.ga), p.d)) AS cb OFFSET 0) x) m"
    )


def pairs_from_table(rules: list[Rule], table: str) -> tuple[str, dict]:
    """Pairs listed by id in ``table`` (rule_id, work_a_id, work_b_id, dig_ban_id; 0 for
    none), as rows shaped like :func:`pairs_sql` gives: how the in-memory path hands over."""
    params = {}
    cases_kind, cases_d, cases_g = [], [], []
    for i, rule in enumerate(rules):
        p = f"r{i}"
        params.update(parameters(rule, p))
        cases_kind.append(f"WHEN CAST(:{p}_id AS bigint) THEN CAST(:{p}_kind AS varchar)")
        cases_d.append(f"WHEN CAST(:{p}_id AS bigint) THEN CAST(:{p}_d AS float8)")
        cases_g.append(f"WHEN CAST(:{p}_id AS bigint) THEN CAST(:{p}_g AS integer)")
    sql = (
        f"SELECT t.rule_id, CASE t.rule_id {' '.join(cases_kind)} END AS kind,"
        f" CASE t.rule_id {' '.join(cases_d)} END AS d,"
        f" CASE t.rule_id {' '.join(cases_g)} END AS g,"
        " t.work_a_id, NULLIF(t.work_b_id, 0) AS work_b_id, NULLIF(t.dig_ban_id, 0) AS dig_ban_id,"
        " a.geom AS ga, coalesce(b.geom, v.geom) AS gb, a.start_date AS sa, a.end_date AS ea,"
        " coalesce(b.start_date, v.start_date) AS sb, coalesce(b.end_date, v.end_date) AS eb,"
        " CAST(a.traffic_impact AS varchar) AS ia,"
        " CAST(coalesce(b.traffic_impact, 'none') AS varchar) AS ib"
        f" FROM {table} t JOIN works a ON a.id = t.work_a_id"
        " LEFT JOIN works b ON b.id = NULLIF(t.work_b_id, 0)"
        " LEFT JOIN dig_bans v ON v.id = NULLIF(t.dig_ban_id, 0)"
    )
    return sql, params
