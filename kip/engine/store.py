"""Writing what the engine found: one set-based statement for every size.

Given the measured pairs of a scope, one statement

* resolves the clashes of that scope that were not found again (record kept, event written),
* opens again the resolved clashes that were found again (event written),
* inserts the new clashes, and updates the measures of known ones only where they changed
  (a recompute that finds nothing new writes nothing),

so the identity of a clash - (rule, work a, work b) or (rule, work, dig ban) - and its review
survive every recompute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from .pairs import Scope
from .rules import apply_settings, setting_calls, stamp_is

# The identity of a clash, as an equality a hash join can use (ids are positive).
_SAME_KEY = (
    "f.rule_id = c.rule_id AND f.work_a_id = c.work_a_id"
    " AND coalesce(f.work_b_id, 0) = coalesce(c.work_b_id, 0)"
    " AND coalesce(f.dig_ban_id, 0) = coalesce(c.dig_ban_id, 0)"
)


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
    """
    return {"jit": "off", "plan_cache_mode": "force_generic_plan" if reuse_plan else "auto"}


def no_jit(session: Session, *, reuse_plan: bool = False) -> None:
    """Apply :func:`engine_settings` to the session's transaction."""
    apply_settings(session, engine_settings(reuse_plan=reuse_plan))


def _clash_scope(scope: Scope) -> str:
    """The stored clashes a recompute of ``scope`` answers for."""
    if scope.everything:
        return "TRUE"
    parts = []
    if scope.work_ids:
        parts.append(f"{scope.has_work('c.work_a_id')} OR {scope.has_work('c.work_b_id')}")
    if scope.dig_ban_ids:
        parts.append("c.dig_ban_id = ANY(:scope_bans)")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def small_scope(scope: Scope) -> bool:
    """A scope of a few works: its statement is planned once and kept (see
    :func:`engine_settings`)."""
    return not scope.everything and len(scope.work_ids) <= 10


def store(
    session: Session,
    measured: str,
    params: dict,
    scope: Scope,
    rule_ids: list[int],
    actor: str,
    *,
    configured: bool = False,
) -> Outcome:
    """Bring the stored clashes of ``scope`` in line with the ``measured`` pairs.

    ``configured``: the caller has applied :func:`engine_settings` already.
    """
    if not configured:
        no_jit(session, reuse_plan=small_scope(scope))
    row = session.execute(
        text(store_sql(measured, scope)), {**params, "rule_ids": rule_ids, "actor": actor}
    ).one()
    return _outcome(row)


def store_sql(measured: str, scope: Scope, guard: str | None = None) -> str:
    """The statement of :func:`store`. With ``guard`` (SQL, true or false for the whole
    statement) it finds, writes and resolves nothing unless the guard holds; its last
    column says whether it did."""
    fresh = f"({guard})" if guard else "TRUE"
    return f"""
    WITH found AS MATERIALIZED (SELECT * FROM ({measured}) m0 WHERE {fresh}),
    in_scope AS (
        SELECT c.id, c.status FROM clashes c
        WHERE c.rule_id = ANY(:rule_ids) AND {_clash_scope(scope)} AND {fresh}
    ),
    gone AS (
        UPDATE clashes c SET status = 'resolved', resolved_at = now(), updated_at = now()
        FROM in_scope s
        WHERE c.id = s.id AND s.status <> 'resolved'
          AND NOT EXISTS (SELECT 1 FROM found f WHERE {_SAME_KEY})
        RETURNING c.id, s.status AS was
    ),
    back AS (
        SELECT c.id FROM clashes c JOIN found f ON {_SAME_KEY} WHERE c.status = 'resolved'
    ),
    written AS (
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
    ),
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
           (SELECT count(*) FROM back),
           {fresh} AS fresh
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


def _pyformat(sql: str) -> str:
    return _BIND.sub(r"%(\1)s", sql.replace("%", "%%"))


def store_with_latest_rules(
    session: Session,
    measured: str,
    params: dict,
    scope: Scope,
    rule_ids: list[int],
    actor: str,
    stamp: str,
) -> Outcome | None:
    """:func:`store` for a save of a few works, in one round trip: the transaction's
    settings (:func:`engine_settings`) and the statement, with the rules last read
    (``stamp``) - sent together in psycopg's pipeline mode. The statement does nothing
    when the rules have changed since; then the answer is None and the caller reads the
    rules again."""
    settings = engine_settings(reuse_plan=True)
    raw = session.connection().connection.driver_connection
    with raw.pipeline():
        raw.execute(_pyformat(f"SELECT {', '.join(setting_calls(settings))}"), settings)
        cursor = raw.execute(
            _pyformat(store_sql(measured, scope, guard=stamp_is("rules_stamp"))),
            {**params, "rule_ids": rule_ids, "actor": actor, "rules_stamp": stamp},
        )
    row = cursor.fetchone()
    return _outcome(row) if row[5] else None
