"""The overlap engine: where works meet in space and time, under the rules.

One question at three sizes, with one answer (see ``DESIGN.md``, "what a pair is"):

* :func:`recompute_works` - the works just saved (one, or a bulk import: set-based, one
  statement for the lot, never one query per work);
* :func:`recompute_all` - everything (``kip clashes recompute``);
* :func:`check_draft` - a work that is not saved: the clashes it would have, nothing written.

Dig bans have :func:`recompute_dig_bans`. All of them run the same SQL (:mod:`.pairs`) and
write through the same statement (:mod:`.store`); :mod:`.inmemory` is an optional faster
pair finder for the full recompute, proven to give the same pairs. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from ..models import Clash, Work
from .pairs import Draft, Scope, measured_sql, pairs_from_table, pairs_sql, scope_parameters
from .rules import Rule, latest_rules, load_rules
from .store import Outcome, engine_settings, no_jit, small_scope, store_with_latest_rules
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
    if rules is None and small_scope(scope):
        # A save: try the rules last read, the statement guarded by their stamp.
        latest = latest_rules(session)
        if latest is not None:
            stamp, known = latest
            pairs, params = pairs_sql(known, scope)
            outcome = store_with_latest_rules(
                session, measured_sql(pairs), params, scope, [r.id for r in known], actor, stamp
            )
            if outcome is not None:
                _expire_clashes(session)
                return outcome
    configured = rules is None  # the engine's settings travel with the rules' query
    if rules is None:
        rules = load_rules(session, settings=engine_settings(reuse_plan=small_scope(scope)))
    pairs, params = pairs_sql(rules, scope)
    outcome = _store(
        session,
        measured_sql(pairs),
        params,
        scope,
        [r.id for r in rules],
        actor,
        configured=configured,
    )
    if scope.everything:
        session.execute(text("ANALYZE clashes"))  # many rows changed: fresh statistics
    _expire_clashes(session)
    return outcome


def _run_in_memory(session: Session, scope: Scope, actor: str, rules: list[Rule]) -> Outcome:
    """:func:`_run` with the pairs found in memory (all of them, or those of the scope's
    works); measuring and writing are the same statement."""
    from .inmemory import load_pairs_table

    table = load_pairs_table(session, rules, None if scope.everything else scope.work_ids)
    pairs, params = pairs_from_table(rules, table)
    params.update(scope_parameters(scope))
    outcome = _store(session, measured_sql(pairs), params, scope, [r.id for r in rules], actor)
    if scope.everything:
        session.execute(text("ANALYZE clashes"))  # many rows changed: fresh statistics
    _expire_clashes(session)
    return outcome


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
    (same pairs, faster on large towns); measuring and writing are the same either way."""
    rules = load_rules(session) if rules is None else rules
    scope = Scope.all()
    if not in_memory:
        return _run(session, scope, actor, rules)
    return _run_in_memory(session, scope, actor, rules)


def find(session: Session, scope: Scope, rules: list[Rule] | None = None) -> list[Found]:
    """The measured pairs of ``scope``, without writing anything."""
    rules = load_rules(session) if rules is None else rules
    pairs, params = pairs_sql(rules, scope)
    sql = f"SELECT * FROM ({measured_sql(pairs)}) f ORDER BY score DESC, rule_id, work_a_id"
    no_jit(session)
    found = []
    for row in session.execute(text(sql), params).mappings():
        geom = row["geom"]
        found.append(
            Found(
                rule_id=row["rule_id"],
                kind=row["kind"],
                work_a_id=row["work_a_id"],
                work_b_id=row["work_b_id"],
                dig_ban_id=row["dig_ban_id"],
                distance_m=row["distance_m"],
                overlap_days=row["overlap_days"],
                gap_days=row["gap_days"],
                shared_length_m=row["shared_length_m"],
                geometry=_shape(geom),
                score=row["score"],
            )
        )
    return found


def check_draft(session: Session, draft: Draft) -> list[Found]:
    """The clashes a draft work would have, best first; nothing is saved."""
    return find(session, Scope.of_draft(draft))


def on_work_saved(session: Session, actor_label: str, work: Work) -> Outcome:
    """Saving one work computes its clashes in the same transaction (create, update, delete)."""
    return recompute_works(session, [work.id], actor=actor_label)


def _shape(value) -> BaseGeometry | None:
    if value is None:
        return None
    if isinstance(value, str):  # hex EWKB, as psycopg returns an untyped geometry
        import shapely

        return shapely.from_wkb(bytes.fromhex(value))
    return to_shape(value)


def _expire_clashes(session: Session) -> None:
    """The statement wrote clashes behind the ORM's back: reload any it holds."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Clash):
            session.expire(obj)
