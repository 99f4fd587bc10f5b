"""Finding the pairs in SQL: one text for every size of the question.

:func:`pairs_sql` writes the candidate pairs of a :class:`Scope` (all works, some works,
some dig bans, or a draft that is not saved) as one ``UNION ALL`` over the rules. Each row
carries both sides' geometry, dates and traffic impact, oriented so that the work with the
lower id is side ``a`` (a pair is unordered). They are measured in :mod:`.measure`, as the
pairs the in-memory finder gives are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

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
class Shape:
    """What the pair SQL of a scope depends on: which kinds of scope, not the ids."""

    everything: bool
    works: bool
    bans: bool
    draft: bool
    via_table: bool

    def has_work(self, column: str) -> str:
        """SQL: ``column`` is one of the scope's works."""
        if self.via_table:
            return f"{column} IN (SELECT id FROM {SCOPE_TABLE})"
        return f"{column} = ANY(:scope_works)"


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
    via_table: bool = False

    def has_work(self, column: str) -> str:
        """SQL: ``column`` is one of the scope's works."""
        return self.shape.has_work(column)

    @property
    def shape(self) -> Shape:
        return Shape(
            everything=self.everything,
            works=bool(self.work_ids),
            bans=bool(self.dig_ban_ids),
            draft=self.draft is not None,
            via_table=self.via_table,
        )

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


def _source(scope: Shape) -> str:
    return _DRAFT_SOURCE if scope.draft else "works"


def _near(rule: Rule, p: str, other: str) -> str:
    """``other`` is near ``a`` in space and in time (one GiST scan on (geom, period))."""
    return (
        f"ST_DWithin(a.geom, {other}.geom, CAST(:{p}_d AS float8))"
        f" AND {other}.period && daterange(a.start_date - CAST(:{p}_g AS integer),"
        f" a.end_date + CAST(:{p}_g AS integer), '[]')"
    )


def _work_pairs(rule: Rule, p: str, scope: Shape) -> str | None:
    if scope.bans and not scope.works and not scope.everything:
        return None
    if scope.everything:
        where = "a.id < b.id"
    elif scope.draft:
        where = "b.id <> a.id"
    else:
        # Each pair once: from its lower-id side when both sides are in scope.
        where = (
            f"{scope.has_work('a.id')} AND b.id <> a.id"
            f" AND NOT (b.id < a.id AND {scope.has_work('b.id')})"
        )
    alive_a = "" if scope.draft else "a.deleted_at IS NULL AND "

    def lo(col: str) -> str:
        return f"CASE WHEN a.id < b.id THEN a.{col} ELSE b.{col} END"

    def hi(col: str) -> str:
        return f"CASE WHEN a.id < b.id THEN b.{col} ELSE a.{col} END"

    return (
        f"SELECT CAST(:{p}_id AS bigint) AS rule_id,"
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


def _ban_pairs(rule: Rule, p: str, scope: Shape) -> str | None:
    if scope.everything or scope.draft:
        where = "TRUE"
    elif scope.bans:
        where = "v.id = ANY(:scope_bans)"
        if scope.works:
            where = f"({where} OR {scope.has_work('a.id')})"
    else:
        where = scope.has_work("a.id")
    alive_a = "" if scope.draft else "a.deleted_at IS NULL AND "
    return (
        f"SELECT CAST(:{p}_id AS bigint) AS rule_id,"
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
    params: dict = {}
    for i, rule in enumerate(rules):
        params.update(parameters(rule, f"r{i}"))
    params.update(scope_parameters(scope))
    return _pairs_text(tuple(rules), scope.shape), params


@lru_cache(maxsize=64)
def _pairs_text(rules: tuple[Rule, ...], scope: Shape) -> str:
    """The text of :func:`pairs_sql`, kept per rules and scope shape (a save asks the
    same every time)."""
    parts = []
    for i, rule in enumerate(rules):
        p = f"r{i}"
        sql = _ban_pairs(rule, p, scope) if rule.against_dig_bans else _work_pairs(rule, p, scope)
        if sql is not None:
            parts.append(sql)
    if not parts:
        parts.append(_EMPTY)
    return " UNION ALL ".join(f"({s})" for s in parts)


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
    "SELECT CAST(NULL AS bigint) AS rule_id,"
    " CAST(NULL AS bigint) AS work_a_id, CAST(NULL AS bigint) AS work_b_id,"
    " CAST(NULL AS bigint) AS dig_ban_id, CAST(NULL AS geometry) AS ga,"
    " CAST(NULL AS geometry) AS gb, CAST(NULL AS date) AS sa, CAST(NULL AS date) AS ea,"
    " CAST(NULL AS date) AS sb, CAST(NULL AS date) AS eb, CAST(NULL AS varchar) AS ia,"
    " CAST(NULL AS varchar) AS ib WHERE FALSE"
)
