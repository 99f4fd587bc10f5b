"""Writing what the engine found: set-based, the same statements for every size.

Given the measured pairs of a scope, one statement (:func:`store`; for many pairs, the same
in parts: :func:`store_many`)

* resolves the clashes of that scope that were not found again (record kept, event written),
* opens again the resolved clashes that were found again (event written),
* inserts the new clashes, and updates the measures of known ones only where they changed
  (a recompute that finds nothing new writes nothing),

so the identity of a clash - (rule, work a, work b) or (rule, work, dig ban) - and its review
survive every recompute.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import Session

from ..collector import paused_gc
from .found import KEYS_TABLE, TABLES_SQL, copy_found, found_payload, found_table, keys_payload
from .measure import Candidates, measure, part_of
from .pairs import Scope
from .pgcopy import copy_rows
from .rules import Rule, apply_settings


def _same_key(c: str) -> str:
    """SQL: found pair ``f`` is the stored clash ``c``, as an equality a hash join can use
    (ids are positive)."""
    return (
        f"f.rule_id = {c}.rule_id AND f.work_a_id = {c}.work_a_id"
        f" AND coalesce(f.work_b_id, 0) = coalesce({c}.work_b_id, 0)"
        f" AND coalesce(f.dig_ban_id, 0) = coalesce({c}.dig_ban_id, 0)"
    )


_SAME_KEY = _same_key("c")


@dataclass(frozen=True)
class Outcome:
    """What one recompute did."""

    found: int
    new: int
    changed: int
    resolved: int
    reopened: int

    def summary(self) -> str:
        return (
            f"{self.found} clashes found: {self.new} new, {self.changed} changed, "
            f"{self.reopened} back again, {self.resolved} resolved"
        )


def engine_settings(*, reuse_plan: bool = False) -> dict[str, str]:
    """The transaction's settings for the engine's statements.

    PostGIS functions carry high cost estimates, so PostgreSQL would JIT-compile even a
    one-work statement (seconds of compiling for milliseconds of work): not for these.
    ``reuse_plan``: the statement of a few works is the same text every time (psycopg
    prepares it after a few runs); keep its generic plan instead of planning it again.
    The engine reads works and clashes the database holds in memory: an index lookup
    costs about what a page read in sequence does (``random_page_cost`` 1.1, as for SSDs),
    or the planner reads a whole clash table to find the clashes of a few thousand works.
    """
    return {
        "jit": "off",
        "plan_cache_mode": "force_generic_plan" if reuse_plan else "auto",
        "random_page_cost": "1.1",
    }


def no_jit(session: Session, *, reuse_plan: bool = False) -> None:
    """Apply :func:`engine_settings` to the session's transaction."""
    apply_settings(session, engine_settings(reuse_plan=reuse_plan))


def _in_scope(scope: Scope) -> str:
    """SQL: the stored clashes a recompute of ``scope`` answers for (id, status, identity).

    A scope held in a table asks once per way in (work a, work b, dig ban), each through
    its index: ORed, the planner can only read the whole clash table for them.
    """
    columns = "SELECT c.id, c.status, c.rule_id, c.work_a_id, c.work_b_id, c.dig_ban_id"
    rules = "c.rule_id = ANY(:rule_ids)"
    if scope.everything:
        return f"{columns} FROM clashes c WHERE {rules}"
    ways = []
    if scope.work_ids:
        ways += [scope.has_work("c.work_a_id"), scope.has_work("c.work_b_id")]
    if scope.dig_ban_ids:
        ways.append("c.dig_ban_id = ANY(:scope_bans)")
    if not ways:
        return f"{columns} FROM clashes c WHERE FALSE"
    if scope.via_table:
        return " UNION ".join(f"{columns} FROM clashes c WHERE {rules} AND {w}" for w in ways)
    return f"{columns} FROM clashes c WHERE {rules} AND ({' OR '.join(ways)})"


def small_scope(scope: Scope) -> bool:
    """A scope of a few works: its statement is planned once and kept (see
    :func:`engine_settings`)."""
    return not scope.everything and len(scope.work_ids) <= 10


def store(
    session: Session,
    found: str,
    params: dict,
    scope: Scope,
    rule_ids: list[int],
    actor: str,
) -> Outcome:
    """Bring the stored clashes of ``scope`` in line with the measured pairs that the SQL
    ``found`` gives, in one statement (the engine's settings are applied already)."""
    raw = session.connection().connection.driver_connection
    row = raw.execute(
        pyformat(store_sql(found, scope)), {**params, "rule_ids": rule_ids, "actor": actor}
    ).fetchone()
    return _outcome(row)


def store_sql(found: str, scope: Scope) -> str:
    """The statement of :func:`store`."""
    return f"""
    WITH found AS MATERIALIZED ({found}),
    {_gone(scope, f"NOT EXISTS (SELECT 1 FROM found f WHERE {_same_key('s')})")},
    {_BACK_OF_FEW},
    {_WRITTEN},
    events AS (
        INSERT INTO clash_events (clash_id, action, status_from, status_to, actor)
        SELECT id, 'resolved', was, 'resolved', :actor FROM gone
        UNION ALL
        SELECT id, 'reopened', 'resolved', 'open', :actor FROM back
    )
    SELECT (SELECT count(*) FROM found),
           (SELECT count(*) FILTER (WHERE inserted) FROM written),
           (SELECT count(*) FILTER (WHERE NOT inserted) FROM written),
           (SELECT count(*) FROM gone),
           (SELECT count(*) FROM back)
    """


def _gone(scope: Scope, not_found: str) -> str:
    """CTEs: the clashes of ``scope`` (``s``) that are ``not_found`` again become resolved."""
    fence = "" if scope.everything else " MATERIALIZED"
    return f"""in_scope AS{fence} (
        {_in_scope(scope)}
    ),
    gone AS (
        UPDATE clashes c SET status = 'resolved', resolved_at = now(), updated_at = now()
        FROM in_scope s
        WHERE c.id = s.id AND s.status <> 'resolved' AND {not_found}
        RETURNING c.id, s.status AS was
    )"""


# The resolved clashes found again. Among many found pairs: a join with the resolved ones.
_BACK_OF_MANY = f"""back AS (
        SELECT c.id FROM clashes c JOIN found f ON {_SAME_KEY} WHERE c.status = 'resolved'
    )"""
# Among a few: each looked up by its work (an index entry per pair), never a walk through
# all the resolved clashes of the town, which only grow in number over the years.
# (The fence, OFFSET 0, keeps the status out of the lookup: the planner would otherwise
# walk the status index, thinking few clashes resolved.)
_BACK_OF_FEW = f"""back AS (
        SELECT b.id FROM found f, LATERAL (
            SELECT c.id, c.status FROM clashes c WHERE {_SAME_KEY} OFFSET 0
        ) b
        WHERE b.status = 'resolved'
    )"""
# CTE: the found ones written: new ones inserted, known ones updated where a measure
# changed (or they come back).
_WRITTEN = """written AS (
        INSERT INTO clashes AS c (rule_id, kind, work_a_id, work_b_id, dig_ban_id, distance_m,
            overlap_days, gap_days, shared_length_m, score, geom)
        SELECT rule_id, kind, work_a_id, work_b_id, dig_ban_id, distance_m, overlap_days,
            gap_days, shared_length_m, score, geom
        FROM found
        ON CONFLICT (rule_id, work_a_id, work_b_id, dig_ban_id) DO UPDATE SET
            distance_m = excluded.distance_m, overlap_days = excluded.overlap_days,
            gap_days = excluded.gap_days, shared_length_m = excluded.shared_length_m,
            score = excluded.score, geom = excluded.geom, kind = excluded.kind,
            status = CASE WHEN c.status = 'resolved' THEN 'open' ELSE c.status END,
            resolved_at = NULL, measured_at = now(), updated_at = now()
        WHERE c.status = 'resolved'
           OR (c.distance_m, c.overlap_days, c.gap_days, c.shared_length_m, c.score, c.kind)
              IS DISTINCT FROM (excluded.distance_m, excluded.overlap_days, excluded.gap_days,
              excluded.shared_length_m, excluded.score, excluded.kind)
           OR NOT ST_OrderingEquals(c.geom, excluded.geom)
        RETURNING (xmax = 0) AS inserted
    )"""


# Pairs measured and written per part when there are many: the database writes one part
# while the next is found and measured.
PART = 100_000


def store_many(
    session: Session,
    parts: Iterable[Candidates],
    rules: list[Rule],
    scope: Scope,
    params: dict,
    actor: str,
    srid: int,
) -> Outcome:
    """:func:`store` for many pairs, not yet measured, coming in parts (see
    :func:`.inmemory.candidate_parts`): each part is measured (in pieces of at most
    :data:`PART`) and handed to a second thread, which copies its identities and measured
    rows in and writes them while this thread finds and measures the next. Once every
    pair has been written, the clashes of ``scope`` not found again are resolved. Same
    statements, same answer as :func:`store`. (While a part is written, this thread may
    ask the database about pairs on the edge of a rule's distance: psycopg lets one
    statement run at a time.)"""
    raw = session.connection().connection.driver_connection
    raw.execute(TABLES_SQL)
    found, kinds = found_table(rules, srid)
    params = {**params, **kinds, "rule_ids": [r.id for r in rules], "actor": actor}
    write = pyformat(_write_sql(found))

    def written(keys: bytes, payload: bytes) -> tuple[int, int, int]:
        copy_rows(raw, KEYS_TABLE, keys, analyze=False)
        copy_found(raw, payload)
        new, updated, back = raw.execute(write, params).fetchone()
        return (new, updated, back)

    count, totals = 0, (0, 0, 0)
    with paused_gc(), ThreadPoolExecutor(1) as database:
        pending: Future | None = None
        for chunk in parts:
            for start in range(0, len(chunk), PART):
                part = part_of(chunk, slice(start, start + PART))
                keys, payload = keys_payload(part), found_payload(measure(part, rules))
                if pending is not None:
                    totals = _plus(totals, pending.result())
                pending = database.submit(written, keys, payload)
                count += len(part)
        if pending is not None:
            totals = _plus(totals, pending.result())
    raw.execute(f"ANALYZE {KEYS_TABLE}")
    resolved = raw.execute(pyformat(_resolve_sql(scope)), params).fetchone()[0]
    new, updated, reopened = totals
    return _outcome((count, new, updated, resolved, reopened))


def _plus(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _resolve_sql(scope: Scope) -> str:
    not_found = f"NOT EXISTS (SELECT 1 FROM {KEYS_TABLE} f WHERE {_same_key('s')})"
    return f"""
    WITH {_gone(scope, not_found)},
    events AS (
        INSERT INTO clash_events (clash_id, action, status_from, status_to, actor)
        SELECT id, 'resolved', was, 'resolved', :actor FROM gone
    )
    SELECT count(*) FROM gone
    """


def _write_sql(found: str) -> str:
    return f"""
    WITH found AS MATERIALIZED ({found}),
    {_BACK_OF_MANY},
    {_WRITTEN},
    events AS (
        INSERT INTO clash_events (clash_id, action, status_from, status_to, actor)
        SELECT id, 'reopened', 'resolved', 'open', :actor FROM back
    )
    SELECT (SELECT count(*) FILTER (WHERE inserted) FROM written),
           (SELECT count(*) FILTER (WHERE NOT inserted) FROM written),
           (SELECT count(*) FROM back)
    """


def _outcome(row) -> Outcome:
    found, new, updated, resolved, reopened = (int(v) for v in row[:5])
    return Outcome(
        found=found,
        new=new,
        changed=updated - reopened,
        resolved=resolved,
        reopened=reopened,
    )


# A bind parameter of SQLAlchemy's text(), as psycopg wants it.
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


@lru_cache(maxsize=256)
def pyformat(sql: str) -> str:
    """``sql`` written for SQLAlchemy's ``text()``, as psycopg wants it (kept: a save
    sends the same few statements every time)."""
    return _BIND.sub(r"%(\1)s", sql.replace("%", "%%"))
