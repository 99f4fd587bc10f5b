"""Clashes: list, show, review; combination proposals; check a draft work without saving.

What the API, the pages and the CLI call. Functions take the session (and the actor where
something is decided or written), flush and never commit, and raise :class:`KipError`.
Who may see which works is the web layer's (and :mod:`kip.policy`'s) business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from .. import engine, policy
from ..actors import Actor
from ..engine.combinations import Combination, combinations
from ..engine.explain import Facts, Side, explain
from ..errors import Conflict, NotFound, ValidationError
from ..models import (
    REVIEW_STATUSES,
    Clash,
    ClashEvent,
    ClashEventAction,
    ClashKind,
    ClashRule,
    ClashStatus,
    DigBan,
    Work,
)
from .works import WorkData, _validate

MAX_PER_PAGE = 500


@dataclass(frozen=True)
class ClashFilters:
    """What a coordinator narrows the clash list down with (all optional)."""

    kind: str | None = None
    status: str | None = None
    organisation_id: int | None = None
    discipline: str | None = None
    # (min x, min y, max x, max y) in the project CRS: where the works meet.
    bbox: tuple[float, float, float, float] | None = None
    # Clashes with a work active in this period (inclusive).
    period: tuple[date, date] | None = None


@dataclass(frozen=True)
class ClashView:
    """A clash with its two sides and its explanation."""

    clash: Clash
    work_a: Work
    work_b: Work | None
    dig_ban: DigBan | None
    explanation: dict[str, str]


@dataclass(frozen=True)
class Page:
    items: list[ClashView]
    total: int
    page: int
    per_page: int


def _parse(enum_cls, value: str | None, field: str):
    if value is None:
        return None
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ValidationError(
            f"unknown {field} {value!r}", errors={field: f"one of {allowed}"}
        ) from None


def _conditions(filters: ClashFilters) -> list[ColumnElement[bool]]:
    a, b = aliased(Work), aliased(Work)
    conds: list[ColumnElement[bool]] = []
    if filters.kind:
        conds.append(Clash.kind == _parse(ClashKind, filters.kind, "kind"))
    if filters.status:
        conds.append(Clash.status == _parse(ClashStatus, filters.status, "status"))

    def either(cond_a, cond_b) -> ColumnElement[bool]:
        in_a = select(a.id).where(a.id == Clash.work_a_id, cond_a).exists()
        in_b = select(b.id).where(b.id == Clash.work_b_id, cond_b).exists()
        return or_(in_a, in_b)

    if filters.organisation_id is not None:
        org = filters.organisation_id
        conds.append(either(a.organisation_id == org, b.organisation_id == org))
    if filters.discipline:
        conds.append(
            either(a.discipline_code == filters.discipline, b.discipline_code == filters.discipline)
        )
    if filters.period:
        start, end = filters.period
        if end < start:
            raise ValidationError("the period ends before it starts", errors={"period": "order"})
        conds.append(
            either(
                and_(a.start_date <= end, a.end_date >= start),
                and_(b.start_date <= end, b.end_date >= start),
            )
        )
    if filters.bbox:
        xmin, ymin, xmax, ymax = filters.bbox
        if xmin > xmax or ymin > ymax:
            raise ValidationError(
                "the bbox is not min x, min y, max x, max y", errors={"bbox": "order"}
            )
        conds.append(
            Clash.geom.intersects(
                func.ST_MakeEnvelope(xmin, ymin, xmax, ymax, func.ST_SRID(Clash.geom))
            )
        )
    return conds


def list_clashes(
    session: Session, filters: ClashFilters | None = None, *, page: int = 1, per_page: int = 50
) -> Page:
    """The clashes that match ``filters``, highest score first, one page of them."""
    filters = filters or ClashFilters()
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ValidationError(
            "page from 1, per_page from 1 to 500", errors={"page": "out of range"}
        )
    conds = _conditions(filters)
    total = session.execute(select(func.count()).select_from(Clash).where(*conds)).scalar_one()
    clashes = session.execute(
        select(Clash)
        .where(*conds)
        .order_by(Clash.score.desc(), Clash.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).scalars()
    return Page(_views(session, list(clashes)), total, page, per_page)


def _views(session: Session, clashes: list[Clash]) -> list[ClashView]:
    work_ids = {c.work_a_id for c in clashes} | {c.work_b_id for c in clashes if c.work_b_id}
    ban_ids = {c.dig_ban_id for c in clashes if c.dig_ban_id}
    works = {w.id: w for w in session.execute(select(Work).where(Work.id.in_(work_ids))).scalars()}
    bans = {
        b.id: b for b in session.execute(select(DigBan).where(DigBan.id.in_(ban_ids))).scalars()
    }
    views = []
    for c in clashes:
        a = works[c.work_a_id]
        b = works.get(c.work_b_id) if c.work_b_id else None
        ban = bans.get(c.dig_ban_id) if c.dig_ban_id else None
        other = b if b is not None else ban
        facts = Facts(
            rule_name=c.rule.name,
            kind=c.kind.value,
            max_distance_m=c.rule.max_distance_m,
            max_gap_days=c.rule.max_gap_days,
            distance_m=c.distance_m,
            overlap_days=c.overlap_days,
            gap_days=c.gap_days,
            shared_length_m=c.shared_length_m,
        )
        side_a = Side(f"work {a.id} ({a.title})", a.start_date, a.end_date)
        label_b = f"work {b.id} ({b.title})" if b is not None else f"dig ban {ban.id} ({ban.title})"
        side_b = Side(label_b, other.start_date, other.end_date)
        views.append(ClashView(c, a, b, ban, explain(facts, side_a, side_b)))
    return views


def get_clash(session: Session, clash_id: int) -> ClashView:
    clash = session.get(Clash, clash_id)
    if clash is None:
        raise NotFound(f"no clash {clash_id}")
    return _views(session, [clash])[0]


def review_clash(
    session: Session, actor: Actor, clash_id: int, status: str, note: str = ""
) -> Clash:
    """A coordinator's decision: open, combine, accepted or dismissed, with a note."""
    policy.require_coordinator(actor)
    new = _parse(ClashStatus, status, "status")
    if new not in REVIEW_STATUSES:
        raise ValidationError(
            f"a review sets open, combine, accepted or dismissed, not {status!r}",
            errors={"status": "one of open, combine, accepted, dismissed"},
        )
    clash = session.get(Clash, clash_id, with_for_update=True)
    if clash is None:
        raise NotFound(f"no clash {clash_id}")
    if clash.status is ClashStatus.RESOLVED:
        raise Conflict(
            f"clash {clash_id} is resolved: its works no longer meet, there is nothing to review"
        )
    old = clash.status
    clash.status = new
    clash.review_note = note.strip()
    clash.reviewed_by = actor.label
    clash.reviewed_at = datetime.now(UTC)
    session.add(
        ClashEvent(
            clash_id=clash.id,
            action=ClashEventAction.REVIEWED,
            status_from=old,
            status_to=new,
            note=clash.review_note,
            actor=actor.label,
        )
    )
    session.flush()
    return clash


def clash_history(session: Session, clash_id: int) -> list[ClashEvent]:
    """The events of a clash, oldest first."""
    return list(
        session.execute(
            select(ClashEvent).where(ClashEvent.clash_id == clash_id).order_by(ClashEvent.id)
        ).scalars()
    )


def list_combinations(
    session: Session, settings: Mapping | None = None, *, organisation_id: int | None = None
) -> list[Combination]:
    """The combination proposals (pass the app's config as ``settings`` for its unit figures)."""
    return combinations(session, settings, organisation_id=organisation_id)


@dataclass(frozen=True)
class DraftClash:
    found: engine.Found
    rule: ClashRule
    other: Work | DigBan
    explanation: dict[str, str]


def check_work(session: Session, data: WorkData, *, work_id: int | None = None) -> list[DraftClash]:
    """The clashes a work would have with ``data``, best first; nothing is saved.

    ``work_id`` names the work being edited (it does not clash with its old self).
    """
    errors = _validate(session, data)
    if errors:
        raise ValidationError("the work cannot be checked", errors=errors)
    draft = engine.Draft(
        geometry=data.geometry,
        start_date=data.start_date,
        end_date=data.end_date,
        discipline=data.discipline,
        phase=data.phase,
        excavation=data.excavation,
        traffic_impact=str(getattr(data.traffic_impact, "value", data.traffic_impact)),
        work_id=work_id or 0,
    )
    found = engine.check_draft(session, draft)
    rules = {r.id: r for r in session.execute(select(ClashRule)).scalars()}
    out = []
    for f in found:
        rule = rules[f.rule_id]
        if f.dig_ban_id is not None:
            other: Work | DigBan = session.get(DigBan, f.dig_ban_id)
        else:
            other_id = f.work_b_id if f.work_a_id == draft.work_id else f.work_a_id
            other = session.get(Work, other_id)
        facts = Facts(
            rule.name,
            f.kind,
            rule.max_distance_m,
            rule.max_gap_days,
            f.distance_m,
            f.overlap_days,
            f.gap_days,
            f.shared_length_m,
        )
        side_a = Side("this work", data.start_date, data.end_date)
        kind = "dig ban" if isinstance(other, DigBan) else "work"
        side_b = Side(f"{kind} {other.id} ({other.title})", other.start_date, other.end_date)
        out.append(DraftClash(f, rule, other, explain(facts, side_a, side_b)))
    return out
