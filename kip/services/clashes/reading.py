"""Reading clashes: the list, one clash and its history, each as the viewer may see it —
whole, or redacted to their own side (see :mod:`kip.services.clashes`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from ... import policy
from ...actors import Actor
from ...db import bound_srid
from ...engine.explain import Side, explain, explain_one_sided
from ...errors import NotFound, ValidationError
from ...models import (
    Clash,
    ClashEvent,
    ClashEventAction,
    ClashKind,
    ClashStatus,
    DigBan,
    Work,
)
from ..works import MAX_ID
from .sides import facts, label, rule_only, seen

MAX_LIMIT = 1000


@dataclass(frozen=True)
class ClashFilters:
    """What a clash list is narrowed down with (all optional)."""

    kind: str | None = None
    status: str | None = None
    organisation_id: int | None = None
    discipline: str | None = None
    # (min x, min y, max x, max y) in ``bbox_srid`` (default: the project CRS): where the
    # works meet, as the viewer is shown it.
    bbox: tuple[float, float, float, float] | None = None
    bbox_srid: int | None = None
    # Clashes with a work active in this period (inclusive).
    period: tuple[date, date] | None = None


@dataclass(frozen=True)
class Measured:
    """What was measured of a clash: shown to those who see it whole."""

    score: float
    distance_m: float
    overlap_days: int
    gap_days: int
    shared_length_m: float


@dataclass(frozen=True)
class ClashView:
    """A clash as one viewer may see it.

    When the clash is redacted for the viewer, ``work_a`` is their own work, ``work_b`` None
    (whichever side each is in the record), and ``meeting``, ``measured`` and
    ``review_note`` are None. ``meeting`` is the meeting place as GeoJSON in EPSG:4326.
    """

    clash: Clash
    work_a: Work | None
    work_b: Work | None
    dig_ban: DigBan | None
    explanation: dict[str, str]
    meeting: str | None
    review_note: str | None
    measured: Measured | None

    @property
    def redacted(self) -> bool:
        return self.measured is None


@dataclass(frozen=True)
class Page:
    items: list[ClashView]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class HistoryEntry:
    action: ClashEventAction
    status_from: ClashStatus
    status_to: ClashStatus
    note: str | None
    actor: str
    at: datetime


def parse_choice(enum_cls, value: str | None, field: str):
    """``value`` as a member of ``enum_cls`` (None stays None); a ValidationError naming
    ``field`` and the allowed values otherwise."""
    if value is None:
        return None
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ValidationError(
            f"unknown {field} {value!r}", errors={field: f"one of {allowed}"}
        ) from None


def _own_side_geom(actor: Actor) -> ColumnElement:
    """The geometry of the side of a clash that belongs to ``actor``'s organisation."""
    side_a, own = aliased(Work), aliased(Work)
    org_a = (
        select(side_a.organisation_id)
        .where(side_a.id == Clash.work_a_id)
        .correlate(Clash)
        .scalar_subquery()
    )
    own_id = case((org_a == actor.organisation_id, Clash.work_a_id), else_=Clash.work_b_id)
    return select(own.geom).where(own.id == own_id).correlate(Clash).scalar_subquery()


def _shown_meeting(actor: Actor) -> ColumnElement:
    """The meeting place as ``actor`` is shown it: None when the clash is redacted."""
    if policy.is_coordinator(actor):
        return Clash.geom
    return case((policy.clash_sight(actor).whole, Clash.geom), else_=None)


def _boxed(actor: Actor) -> ColumnElement:
    """What a box filter tests: the meeting place, or the viewer's own work when the clash
    is redacted (never anything of the hidden side)."""
    if policy.is_coordinator(actor):
        return Clash.geom
    return case((policy.clash_sight(actor).whole, Clash.geom), else_=_own_side_geom(actor))


def _conditions(actor: Actor, filters: ClashFilters) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [policy.clash_sight(actor).any]
    if filters.kind:
        conds.append(Clash.kind == parse_choice(ClashKind, filters.kind, "kind"))
    if filters.status:
        conds.append(Clash.status == parse_choice(ClashStatus, filters.status, "status"))
    seen = true() if policy.is_coordinator(actor) else policy.visible_works(actor)

    def either(cond: ColumnElement[bool]) -> ColumnElement[bool]:
        # Only a side the actor may see can match: a count must not tell what a hidden is.
        ids = select(Work.id).where(cond, seen)
        return or_(Clash.work_a_id.in_(ids), Clash.work_b_id.in_(ids))

    if filters.organisation_id is not None:
        conds.append(either(Work.organisation_id == filters.organisation_id))
    if filters.discipline:
        conds.append(either(Work.discipline_code == filters.discipline))
    if filters.period:
        start, end = filters.period
        if end < start:
            raise ValidationError("the period ends before it starts", errors={"period": "order"})
        conds.append(either(and_(Work.start_date <= end, Work.end_date >= start)))
    if filters.bbox:
        xmin, ymin, xmax, ymax = filters.bbox
        if xmin > xmax or ymin > ymax:
            raise ValidationError(
                "the bbox is not min x, min y, max x, max y", errors={"bbox": "order"}
            )
        srid = filters.bbox_srid or bound_srid()
        box = func.ST_MakeEnvelope(xmin, ymin, xmax, ymax, srid)
        if srid != bound_srid():
            box = func.ST_Transform(box, bound_srid())
        conds.append(func.ST_Intersects(_boxed(actor), box))
    return conds


def _selected(actor: Actor) -> Select:
    meeting = func.ST_AsGeoJSON(func.ST_Transform(_shown_meeting(actor), 4326), 7)
    return select(Clash, meeting, policy.clash_sight(actor).whole)


def list_clashes(
    session: Session,
    actor: Actor,
    filters: ClashFilters | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """The clashes ``actor`` may see that match ``filters``, highest score first."""
    policy.require_login(actor)
    filters = filters or ClashFilters()
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(
            f"limit from 1 to {MAX_LIMIT}, offset from 0", errors={"limit": "out of range"}
        )
    conds = _conditions(actor, filters)
    total = session.execute(select(func.count()).select_from(Clash).where(*conds)).scalar_one()
    # Redacted clashes come last, in the order they were found: where they stand among
    # the others would tell how their measurements rank.
    redacted_last = case((policy.clash_sight(actor).redacted, 1), else_=0)
    rows = session.execute(
        _selected(actor)
        .where(*conds)
        .order_by(
            redacted_last, case((redacted_last == 0, Clash.score), else_=None).desc(), Clash.id
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return Page(_views(session, actor, [tuple(r) for r in rows]), total, limit, offset)


def _views(session: Session, actor: Actor, rows: list[tuple]) -> list[ClashView]:
    """Views of ``(clash, meeting, whole)`` rows; ``whole`` says the actor sees it whole."""
    clashes = [r[0] for r in rows]
    work_ids = {c.work_a_id for c in clashes} | {c.work_b_id for c in clashes if c.work_b_id}
    ban_ids = {c.dig_ban_id for c in clashes if c.dig_ban_id}
    works = {w.id: w for w in session.execute(select(Work).where(Work.id.in_(work_ids))).scalars()}
    bans = {
        b.id: b for b in session.execute(select(DigBan).where(DigBan.id.in_(ban_ids))).scalars()
    }
    views = []
    for c, meeting, whole in rows:
        ban = bans.get(c.dig_ban_id) if c.dig_ban_id else None
        if whole:
            a = works[c.work_a_id]
            b = works[c.work_b_id] if c.work_b_id else None
            other = b if b is not None else ban
            assert other is not None
            explanation = explain(
                facts(c, c.rule, c.distance_m),
                Side(label(a), a.start_date, a.end_date),
                Side(label(other), other.start_date, other.end_date),
            )
            measured = Measured(
                c.score, c.distance_m, c.overlap_days, c.gap_days, c.shared_length_m
            )
            views.append(ClashView(c, a, b, ban, explanation, meeting, c.review_note, measured))
            continue
        # Redacted: the viewer's own work, always as side a (which side it is in the
        # record would tell whether the hidden work is older), and nothing of the other.
        own = seen(session, actor, works.get(c.work_a_id)) or seen(
            session, actor, works.get(c.work_b_id)
        )
        assert own is not None  # the query returns redacted clashes of one's own work only
        explanation = explain_one_sided(
            rule_only(c.rule, c.kind), Side(label(own), own.start_date, own.end_date)
        )
        views.append(ClashView(c, own, None, None, explanation, None, None, None))
    return views


def get_clash(session: Session, actor: Actor, clash_id: int) -> ClashView:
    """One clash as ``actor`` may see it; NotFound when it does not exist or is not theirs."""
    policy.require_login(actor)
    row = None
    if 0 < clash_id <= MAX_ID:
        row = session.execute(
            _selected(actor).where(Clash.id == clash_id, policy.clash_sight(actor).any)
        ).first()
    if row is None:
        raise NotFound(f"no clash {clash_id}")
    return _views(session, actor, [tuple(row)])[0]


def clash_history(session: Session, actor: Actor, clash_id: int) -> list[HistoryEntry]:
    """The events of a clash ``actor`` may see, oldest first; none of a redacted clash
    (when it was found, measured again or resolved would tell when the hidden work moved)."""
    view = get_clash(session, actor, clash_id)
    if view.redacted:
        return []
    events = session.execute(
        select(ClashEvent).where(ClashEvent.clash_id == clash_id).order_by(ClashEvent.id)
    ).scalars()
    return [
        HistoryEntry(
            e.action,
            e.status_from,
            e.status_to,
            e.note,
            e.actor,
            e.at,
        )
        for e in events
    ]
