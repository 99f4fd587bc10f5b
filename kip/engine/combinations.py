"""Combination proposals: the connected groups of works linked by opportunities.

The graph's nodes are works, its edges the opportunities that are open or marked *combine*;
each connected part (a small union-find) is a proposal with its organisations, the time
window all its works share (or why there is none), the street they share and what doing it
at once would save. The unit figures are configuration (``COMBINATION_*`` in
:mod:`kip.config`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ..config import DEFAULTS
from ..models import Clash, ClashKind, ClashStatus, Work


class UnionFind:
    """Connected parts of a graph given edge by edge.

    >>> uf = UnionFind()
    >>> uf.union(1, 2); uf.union(3, 4); uf.union(2, 3); uf.union(7, 8)
    >>> sorted(sorted(g) for g in uf.groups())
    [[1, 2, 3, 4], [7, 8]]
    """

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for x in list(self.parent):
            out.setdefault(self.find(x), []).append(x)
        return [sorted(g) for g in out.values()]


@dataclass
class Combination:
    """One proposal: works that could be done as one."""

    work_ids: list[int]
    clash_ids: list[int]
    organisation_ids: list[int]
    window: tuple[date, date] | None
    no_window_reason: str | None
    shared_length_m: float
    trench_m_saved: float
    repaving_m2_saved: float
    closure_days_spared: int
    estimated_saving_eur: float
    works: list[Work] = field(default_factory=list, repr=False)


def _window(works: list[Work]) -> tuple[tuple[date, date] | None, str | None]:
    start = max(w.start_date for w in works)
    end = min(w.end_date for w in works)
    if start <= end:
        return (start, end), None
    late = max(works, key=lambda w: w.start_date)
    early = min(works, key=lambda w: w.end_date)
    return None, (
        f"no common period: work {early.id} ends on {early.end_date.isoformat()}, before "
        f"work {late.id} starts on {late.start_date.isoformat()}"
    )


def combinations(
    session: Session,
    settings: Mapping | None = None,
    *,
    visible: ColumnElement[bool] | None = None,
    organisation_id: int | None = None,
) -> list[Combination]:
    """The combination proposals, largest saving first.

    ``visible`` (a WHERE clause on :class:`Work`) leaves every other work out of the graph,
    as if it did not exist: the groups, windows and savings are those of the works it
    admits. ``organisation_id`` keeps the groups with a work of that organisation.
    """
    cfg = {**DEFAULTS, **(settings or {})}
    edges_query = select(Clash.id, Clash.work_a_id, Clash.work_b_id, Clash.shared_length_m).where(
        Clash.kind == ClashKind.OPPORTUNITY,
        Clash.status.in_([ClashStatus.OPEN, ClashStatus.COMBINE]),
    )
    if visible is not None:
        admitted = select(Work.id).where(visible)
        edges_query = edges_query.where(
            Clash.work_a_id.in_(admitted), Clash.work_b_id.in_(admitted)
        )
    rows = session.execute(edges_query).all()
    uf = UnionFind()
    for _, a, b, _ in rows:
        uf.union(a, b)
    edges: dict[int, list[tuple[int, float]]] = {}
    for clash_id, a, _, shared in rows:
        edges.setdefault(uf.find(a), []).append((clash_id, shared))
    groups = uf.groups()
    by_id = {
        w.id: w
        for w in session.execute(
            select(Work).where(Work.id.in_([i for g in groups for i in g]))
        ).scalars()
    }
    proposals = []
    for group in groups:
        works = [by_id[i] for i in group]
        if organisation_id is not None and all(w.organisation_id != organisation_id for w in works):
            continue
        root_edges = edges[uf.find(group[0])]
        shared = max(s for _, s in root_edges)
        diggers = sum(1 for w in works if w.excavation)
        openings = max(0, diggers - 1) if diggers else 0
        # A repaving work that follows a dig repaves what the dig had to repave anyway.
        repavers = [w for w in works if w.discipline_code == "road" and not w.excavation]
        repaved_twice = openings + (1 if repavers and diggers else 0)
        trench = openings * shared
        repaving = repaved_twice * shared * float(cfg["COMBINATION_REPAVE_WIDTH_M"])
        closures = [w.days for w in works if w.traffic_impact != "none"]
        spared = sum(closures) - max(closures) if len(closures) > 1 else 0
        window, reason = _window(works)
        proposals.append(
            Combination(
                work_ids=group,
                clash_ids=sorted(c for c, _ in root_edges),
                organisation_ids=sorted({w.organisation_id for w in works}),
                window=window,
                no_window_reason=reason,
                shared_length_m=round(shared, 2),
                trench_m_saved=round(trench, 2),
                repaving_m2_saved=round(repaving, 2),
                closure_days_spared=spared,
                estimated_saving_eur=round(
                    trench * float(cfg["COMBINATION_TRENCH_EUR_PER_M"])
                    + repaving * float(cfg["COMBINATION_REPAVE_EUR_PER_M2"]),
                    2,
                ),
                works=works,
            )
        )
    proposals.sort(key=lambda c: (-c.estimated_saving_eur, c.work_ids))
    return proposals
