"""The rules as the engine reads them, and the SQL conditions each one becomes.

A rule's semantics (see :class:`kip.models.ClashRule`): a pair meets it when

* ``distance <= max_distance_m`` (planar metres in the project CRS; the limit counts, as
  PostGIS ``ST_DWithin`` and shapely ``distance(a, b) <= d`` both say), and
* ``gap_days <= max_gap_days``, where for inclusive dates
  ``gap_days = max(0, max(start_a, start_b) - min(end_a, end_b))``; a window of 0 means the
  periods must share at least one day (``max(start) <= min(end)``), and
* both works take part (not soft-deleted, in a phase with ``takes_part``), and the filters
  hold (disciplines, phases, traffic impacts, excavation).

The time condition is written as ``b.period && daterange(a.start - G, a.end + G, '[]')``,
which is the same inequality and lets the GiST index on ``(geom, period)`` answer both
conditions in one scan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..models import ClashKind, ExcavationMode


@dataclass(frozen=True)
class Rule:
    """A rule, detached from the session, with the phases that may take part in it."""

    id: int
    code: str
    name: str
    kind: ClashKind
    max_distance_m: float
    max_gap_days: int
    excavation: ExcavationMode
    repave_disciplines: tuple[str, ...]
    disciplines: tuple[str, ...]
    phases: tuple[str, ...]  # already narrowed to the phases that take part
    traffic_impacts: tuple[str, ...]

    @property
    def against_dig_bans(self) -> bool:
        return self.kind is ClashKind.VIOLATION


# The rules last read per database, with their stamp: kept while the stamp stays the same,
# and what a save may try first.
_LATEST: dict[str, tuple[str, list[Rule]]] = {}
# The row versions (xmin) of every rule and phase: any insert, update or delete, committed
# by anybody or made in this transaction, gives another stamp.
_STAMP = (
    "SELECT coalesce((SELECT string_agg(id || ':' || xmin, ',' ORDER BY id) FROM clash_rules),"
    " '') || '|' || coalesce((SELECT string_agg(code || ':' || xmin, ',' ORDER BY code)"
    " FROM phases), '')"
)


def load_rules(
    session: Session,
    codes: list[str] | None = None,
    *,
    settings: Mapping[str, str] | None = None,
) -> list[Rule]:
    """The active rules (or those named by ``codes``), ready for the engine.

    It runs on every save of a work, so the active rules are kept per database and read
    again only when a rule or a phase changed (their row versions say so: one tiny query).
    ``settings`` are set for the rest of the transaction in that same round trip (see
    :func:`kip.engine.store.engine_settings`).
    """
    if codes is not None:
        if settings:
            apply_settings(session, settings)
        return _read_rules(session, codes)
    stamp = session.execute(text(stamp_query(settings)), dict(settings or {})).one().stamp
    database = str(session.connection().engine.url)
    latest = _LATEST.get(database)
    if latest is None or latest[0] != stamp:
        latest = _LATEST[database] = (stamp, _read_rules(session, None))
    return list(latest[1])


def stamp_query(settings: Mapping[str, str] | None = None) -> str:
    """SQL: the rules' stamp (column ``stamp``), setting ``settings`` on the way."""
    return f"SELECT {', '.join([*setting_calls(settings or {}), f'({_STAMP}) AS stamp'])}"


def setting_calls(settings: Mapping[str, str]) -> list[str]:
    """SQL: one ``set_config`` call per setting, for the transaction (bound as ``:name``)."""
    return [f"set_config('{name}', :{name}, true)" for name in settings]


def stamp_is(param: str) -> str:
    """SQL: the rules are still those the stamp ``:param`` was read from."""
    return f"({_STAMP}) = :{param}"


def latest_rules(session: Session) -> tuple[str, list[Rule]] | None:
    """The rules this process last read from the session's database, with their stamp
    (they may have changed since: check the stamp in the statement that uses them)."""
    found = _LATEST.get(str(session.connection().engine.url))
    return (found[0], list(found[1])) if found else None


def apply_settings(session: Session, settings: Mapping[str, str]) -> None:
    """Set ``settings`` for the rest of the transaction."""
    session.execute(text(f"SELECT {', '.join(setting_calls(settings))}"), dict(settings))


def _read_rules(session: Session, codes: list[str] | None) -> list[Rule]:
    """The rules, and the phases that take part, narrowed per rule to its own phase filter."""
    query = (
        "SELECT r.id, r.code, r.name, r.kind, r.max_distance_m, r.max_gap_days, r.excavation,"
        " r.repave_disciplines, r.disciplines, r.phases, r.traffic_impacts,"
        " ARRAY(SELECT code FROM phases WHERE takes_part ORDER BY code) AS taking_part"
        " FROM clash_rules r WHERE r.active"
    )
    params: dict = {}
    if codes is not None:
        query += " AND r.code = ANY(:codes)"
        params["codes"] = list(codes)
    rules = []
    for row in session.execute(text(query + " ORDER BY r.id"), params).mappings():
        taking_part = list(row["taking_part"])
        phases = [p for p in taking_part if p in row["phases"]] if row["phases"] else taking_part
        rules.append(
            Rule(
                id=row["id"],
                code=row["code"],
                name=row["name"],
                kind=ClashKind(row["kind"]),
                max_distance_m=float(row["max_distance_m"]),
                max_gap_days=int(row["max_gap_days"]),
                excavation=ExcavationMode(row["excavation"]),
                repave_disciplines=tuple(row["repave_disciplines"] or ()),
                disciplines=tuple(row["disciplines"] or ()),
                phases=tuple(phases),
                traffic_impacts=tuple(row["traffic_impacts"] or ()),
            )
        )
    return rules


def work_filter(rule: Rule, alias: str, p: str) -> str:
    """What one work of a pair must be, as SQL on ``alias`` (parameters prefixed ``p``)."""
    parts = [f"{alias}.phase_code = ANY(:{p}_phases)"]
    if rule.disciplines:
        parts.append(f"{alias}.discipline_code = ANY(:{p}_disciplines)")
    return " AND ".join(parts)


def pair_filter(rule: Rule, a: str, b: str | None, p: str) -> str:
    """What the pair must be together; ``b`` is None for a dig ban (the work alone counts)."""
    parts = []
    if rule.traffic_impacts:
        impacts = [f"{a}.traffic_impact = ANY(:{p}_impacts)"]
        if b is not None:
            impacts.append(f"{b}.traffic_impact = ANY(:{p}_impacts)")
        parts.append("(" + " OR ".join(impacts) + ")")
    mode = rule.excavation
    if b is None:
        if mode is not ExcavationMode.ANY:
            parts.append(f"{a}.excavation")
    elif mode is ExcavationMode.EITHER:
        parts.append(f"({a}.excavation OR {b}.excavation)")
    elif mode is ExcavationMode.BOTH:
        parts.append(f"({a}.excavation AND {b}.excavation)")
    elif mode is ExcavationMode.DIG_ONCE:
        repave_a = f"{a}.discipline_code = ANY(:{p}_repave)"
        repave_b = f"{b}.discipline_code = ANY(:{p}_repave)"
        parts.append(
            f"(({a}.excavation AND {b}.excavation) OR ({a}.excavation AND {repave_b})"
            f" OR ({b}.excavation AND {repave_a}))"
        )
    return " AND ".join(parts) if parts else "TRUE"


def parameters(rule: Rule, p: str) -> dict[str, object]:
    return {
        f"{p}_id": rule.id,
        f"{p}_d": rule.max_distance_m,
        f"{p}_g": rule.max_gap_days,
        f"{p}_phases": list(rule.phases),
        f"{p}_disciplines": list(rule.disciplines),
        f"{p}_impacts": list(rule.traffic_impacts),
        f"{p}_repave": list(rule.repave_disciplines),
    }
