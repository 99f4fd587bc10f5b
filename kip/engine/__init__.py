"""The overlap engine: where works meet in space and time, under the rules.

One question at three sizes, with one answer (see ``DESIGN.md``, "what a pair is"):

* :func:`recompute_works` - the works just saved (one, or a bulk import: set-based, one
  statement for the lot, never one query per work);
* :func:`recompute_all` - everything (``kip clashes recompute``);
* :func:`check_draft` - a work that is not saved: the clashes it would have, nothing written.

Dig bans have :func:`recompute_dig_bans`. All of them find their pairs with the same SQL
(:mod:`.pairs`), measure them with the same function (:mod:`.measure`) and write through
the same statement (:mod:`.store`); :mod:`.inmemory` is a faster pair finder for a whole
town or a large part of it, proven to give the same pairs. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from ..db import bound_srid, long_statements
from ..models import Clash, Work
from .found import found_parameters
from .measure import Candidates, candidates_sql, measure
from .pairs import Draft, Scope, pairs_sql, scope_parameters
from .rules import Rule, apply_settings, latest_rules, load_rules, setting_calls, stamp_is
from .store import Outcome, engine_settings, no_jit, pyformat, small_scope, store_many
from .store import store as _store

__all__ = [
    "Draft",
    "Found",
    "Outcome",
    "Rule",
    "Scope",
    "check_draft",
    "find",
    "load_rules",
    "on_work_saved",
    "recompute_all",
    "recompute_dig_bans",
    "recompute_works",
]

ENGINE_ACTOR = "system:engine"


@dataclass(frozen=True)
class Found:
    """One measured pair, as the engine finds it (before or without storing it)."""

    rule_id: int
    kind: str
    work_a_id: int
    work_b_id: int | None
    dig_ban_id: int | None
    distance_m: float
    overlap_days: int
    gap_days: int
    shared_length_m: float
    geometry: BaseGeometry | None
    score: float

    @property
    def key(self) -> tuple[int, int, int | None, int | None]:
        return (self.rule_id, self.work_a_id, self.work_b_id, self.dig_ban_id)


def _run(session: Session, scope: Scope, actor: str, rules: list[Rule] | None) -> Outcome:
    """Find the pairs of ``scope`` in SQL, measure them, store them."""
    rules, candidates = _candidates(session, scope, rules)
    return _measure_and_store(session, scope, actor, rules, candidates)


def _candidates(
    session: Session, scope: Scope, rules: list[Rule] | None
) -> tuple[list[Rule], Candidates]:
    """The candidate pairs of ``scope`` (and the rules they are of), the engine's settings
    applied to the transaction on the way.

    A save of a few works tries the rules last read first: the settings, the rules'
    stamp and the pair query go in one round trip (psycopg's pipeline mode); only when
    the stamp says the rules have changed are they read again and the pairs asked again.
    """
    session.flush()  # the statements go past the ORM: let them see what it holds
    settings = engine_settings(reuse_plan=small_scope(scope))
    raw = session.connection().connection.driver_connection
    if rules is None and small_scope(scope):
        latest = latest_rules(session)
        if latest is not None:
            stamp, known = latest
            pairs, params = pairs_sql(known, scope)
            with raw.pipeline():
                check = raw.execute(
                    pyformat(f"SELECT {', '.join(setting_calls(settings))}, {stamp_is('stamp')}"),
                    {**settings, "stamp": stamp},
                )
                cursor = raw.cursor(binary=True)
                cursor.execute(pyformat(candidates_sql(pairs)), params)
            fresh = check.fetchone()[-1]
            rows = cursor.fetchall()
            cursor.close()
            if fresh:
                return known, Candidates.from_rows(rows)
    if rules is None:
        rules = load_rules(session, settings=settings)
    else:
        apply_settings(session, settings)
    pairs, params = pairs_sql(rules, scope)
    with raw.cursor(binary=True) as cursor:
        cursor.execute(pyformat(candidates_sql(pairs)), params)
        rows = cursor.fetchall()
    return rules, Candidates.from_rows(rows)


def _measure_and_store(
    session: Session, scope: Scope, actor: str, rules: list[Rule], candidates: Candidates
) -> Outcome:
    if len(candidates) > PARAMETERS_MAX:
        return _store_parts(session, scope, actor, rules, [candidates])
    found, params = found_parameters(measure(candidates, rules), rules, bound_srid())
    params.update(scope_parameters(scope))
    outcome = _store(session, found, params, scope, [r.id for r in rules], actor)
    _expire_clashes(session)
    return outcome


def _store_parts(
    session: Session, scope: Scope, actor: str, rules: list[Rule], parts: Iterable[Candidates]
) -> Outcome:
    params = scope_parameters(scope)
    outcome = store_many(session, parts, rules, scope, params, actor, bound_srid())
    if scope.everything:
        session.execute(text("ANALYZE clashes"))  # many rows changed: fresh statistics
    _expire_clashes(session)
    return outcome


def _run_in_memory(session: Session, scope: Scope, actor: str, rules: list[Rule]) -> Outcome:
    """:func:`_run` with the pairs found in memory (all of them, or those of the scope's
    works), a part at a time, each part measured and written while the next is found."""
    from .inmemory import candidate_parts

    session.flush()
    no_jit(session)
    parts = candidate_parts(session, rules, None if scope.everything else scope.work_ids)
    return _store_parts(session, scope, actor, rules, parts)


# Up to this many pairs go to the storing statement as parameters (one round trip); more
# are written in parts (:func:`.store.store_many`).
PARAMETERS_MAX = 500
# A scope of this many works goes to the statements as a temporary table, not an array.
SCOPE_TABLE_MIN = 200
# A scope of at least this share of the town is paired in memory (reading the whole town
# once is then cheaper than an index search per work in scope).
IN_MEMORY_SHARE = 0.2


def recompute_works(
    session: Session,
    work_ids: Iterable[int],
    *,
    actor: str = ENGINE_ACTOR,
    rules: list[Rule] | None = None,
    method: str = "auto",
) -> Outcome:
    """Recompute the clashes of these works (saved, changed, deleted or imported).

    ``method`` says how the pairs are found - ``"array"`` (the ids as a parameter),
    ``"table"`` (the ids as a temporary table) or ``"memory"`` (shapely, see
    :mod:`.inmemory`); ``"auto"`` chooses by the size of the scope and of the town.
    Every method gives the same pairs (``tests/test_engine_property.py``).
    """
    scope = Scope.works(work_ids)
    if not scope.work_ids:
        return Outcome(0, 0, 0, 0, 0)
    if method == "auto":
        method = _method_for(session, len(scope.work_ids))
    if method == "array":
        return _run(session, scope, actor, rules)
    if method not in ("table", "memory"):
        raise ValueError(f"unknown method {method!r}")
    from .inmemory import copy_scope

    rules = load_rules(session) if rules is None else rules
    copy_scope(session, scope.work_ids)
    scope = replace(scope, via_table=True)
    if method == "table":
        return _run(session, scope, actor, rules)
    return _run_in_memory(session, scope, actor, rules)


def _method_for(session: Session, size: int) -> str:
    if size < SCOPE_TABLE_MIN:
        return "array"
    # The planner's own estimate of the town's size: no count of a large table needed.
    town = session.execute(
        text("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'works'::regclass")
    ).scalar_one()
    return "memory" if size >= IN_MEMORY_SHARE * town else "table"


def recompute_dig_bans(
    session: Session, dig_ban_ids: Iterable[int], *, actor: str = ENGINE_ACTOR
) -> Outcome:
    """Recompute the violations of these dig bans (created, changed or ended)."""
    scope = Scope.dig_bans(dig_ban_ids)
    if not scope.dig_ban_ids:
        return Outcome(0, 0, 0, 0, 0)
    rules = [r for r in load_rules(session) if r.against_dig_bans]
    return _run(session, scope, actor, rules)


def recompute_all(
    session: Session,
    *,
    actor: str = ENGINE_ACTOR,
    in_memory: bool = False,
    rules: list[Rule] | None = None,
) -> Outcome:
    """Recompute every clash. ``in_memory`` finds the pairs with shapely instead of a join
    (same pairs, faster on large towns); measuring and writing are the same either way.
    Its statements run under ``BULK_STATEMENT_TIMEOUT_MS``, wherever it is called from."""
    long_statements(session)
    rules = load_rules(session) if rules is None else rules
    scope = Scope.all()
    if not in_memory:
        return _run(session, scope, actor, rules)
    return _run_in_memory(session, scope, actor, rules)


def find(session: Session, scope: Scope, rules: list[Rule] | None = None) -> list[Found]:
    """The measured pairs of ``scope``, best first, without writing anything."""
    rules, candidates = _candidates(session, scope, rules)
    m = measure(candidates, rules)
    kinds = {r.id: r.kind.value for r in rules}
    found = [
        Found(
            rule_id=rule_id,
            kind=kinds[rule_id],
            work_a_id=a,
            work_b_id=b or None,
            dig_ban_id=v or None,
            distance_m=distance,
            overlap_days=overlap,
            gap_days=gap,
            shared_length_m=shared,
            geometry=geometry,
            score=score,
        )
        for rule_id, a, b, v, distance, overlap, gap, shared, score, geometry in zip(
            m.rule_id.tolist(),
            m.work_a_id.tolist(),
            m.work_b_id.tolist(),
            m.dig_ban_id.tolist(),
            m.distance_m.tolist(),
            m.overlap_days.tolist(),
            m.gap_days.tolist(),
            m.shared_length_m.tolist(),
            m.score.tolist(),
            m.geom.tolist(),
            strict=True,
        )
    ]
    found.sort(key=lambda f: (-f.score, f.rule_id, f.work_a_id, f.work_b_id or 0))
    return found


def check_draft(session: Session, draft: Draft) -> list[Found]:
    """The clashes a draft work would have, best first; nothing is saved."""
    return find(session, Scope.of_draft(draft))


def on_work_saved(session: Session, actor_label: str, work: Work) -> Outcome:
    """Saving one work computes its clashes in the same transaction (create, update, delete)."""
    return recompute_works(session, [work.id], actor=actor_label)


def _expire_clashes(session: Session) -> None:
    """The statement wrote clashes behind the ORM's back: reload any it holds."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Clash):
            session.expire(obj)
