"""Clashes: list, show, review; combination proposals; check a draft work without saving.

What the API, the pages and the CLI call. Functions take the session and the actor, flush
and never commit, and raise :class:`KipError`.

**Who sees which clash** is decided in one place, :func:`kip.policy.clash_sight`. Clashes
are for partners: the public sees none (:class:`~kip.errors.Unauthorized`). Coordinators
and KIP itself see every clash whole. A partner sees whole the clashes whose two sides they
may see (:func:`kip.policy.visible_works`). Of a clash between their own organisation's work
and a work they may not see, they are told only that it exists: its rule, kind and status,
their own work and what would clear it on their side - no distance, days, score, times,
meeting place, notes or history, and nothing in the order of a list (such clashes come
last). Nobody else is told of it. Filters look at the visible sides only, and a box tests
the viewer's own work for such a clash, so neither counts nor boxes can probe a hidden
side.

A coordinator may decide otherwise (:func:`disclose_clash`): for a disclosed clash the
partners of the organisations involved see both works whole, so they can talk about
combining them. The public never does, and the disclosure is kept in the audit trail.

Combination proposals (:func:`list_combinations`) are worked out, for a partner, from the
works and opportunities they may see only; a draft (:func:`check_work`) costs nothing and
leaves no trace, so it is checked against what the viewer may see only - it can never be
moved around to find a confidential work. docs/security.md lists what is revealed and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from .. import engine, policy
from ..actors import Actor
from ..audit import audit
from ..db import bound_srid
from ..engine.combinations import Combination, combinations
from ..engine.explain import Facts, Side, explain, explain_one_sided
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
from .works import MAX_ID, WorkData, _validate, may_see

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
        conds.append(Clash.kind == _parse(ClashKind, filters.kind, "kind"))
    if filters.status:
        conds.append(Clash.status == _parse(ClashStatus, filters.status, "status"))
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


def _seen(session: Session, actor: Actor, work: Work | None) -> Work | None:
    """The work when ``actor`` may see it by the policy."""
    return work if work is not None and may_see(session, actor, work) else None


def _facts(clash_or_found, rule: ClashRule, distance: float) -> Facts:
    return Facts(
        rule_name=rule.name,
        kind=str(getattr(clash_or_found.kind, "value", clash_or_found.kind)),
        max_distance_m=rule.max_distance_m,
        max_gap_days=rule.max_gap_days,
        distance_m=distance,
        overlap_days=clash_or_found.overlap_days,
        gap_days=clash_or_found.gap_days,
        shared_length_m=clash_or_found.shared_length_m,
    )


def _label(thing: Work | DigBan) -> str:
    kind = "dig ban" if isinstance(thing, DigBan) else "work"
    return f"{kind} {thing.id} ({thing.title})"


def _rule_only(rule: ClashRule, kind: ClashKind | str) -> Facts:
    """The facts of a rule, with nothing measured: what a redacted clash is told with."""
    return Facts(
        rule_name=rule.name,
        kind=str(getattr(kind, "value", kind)),
        max_distance_m=rule.max_distance_m,
        max_gap_days=rule.max_gap_days,
        distance_m=0.0,
        overlap_days=0,
        gap_days=0,
        shared_length_m=0.0,
    )


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
                _facts(c, c.rule, c.distance_m),
                Side(_label(a), a.start_date, a.end_date),
                Side(_label(other), other.start_date, other.end_date),
            )
            measured = Measured(
                c.score, c.distance_m, c.overlap_days, c.gap_days, c.shared_length_m
            )
            views.append(ClashView(c, a, b, ban, explanation, meeting, c.review_note, measured))
            continue
        # Redacted: the viewer's own work, always as side a (which side it is in the
        # record would tell whether the hidden work is older), and nothing of the other.
        own = _seen(session, actor, works.get(c.work_a_id)) or _seen(
            session, actor, works.get(c.work_b_id)
        )
        assert own is not None  # the query returns redacted clashes of one's own work only
        explanation = explain_one_sided(
            _rule_only(c.rule, c.kind), Side(_label(own), own.start_date, own.end_date)
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


def disclose_clash(session: Session, actor: Actor, clash_id: int, disclosed: bool) -> Clash:
    """A coordinator's decision that the partners involved see both works of this clash in
    full (or, with ``False``, no longer). Kept in the audit trail."""
    policy.require_coordinator(actor)
    clash = session.get(Clash, clash_id) if 0 < clash_id <= MAX_ID else None
    if clash is None:
        raise NotFound(f"no clash {clash_id}")
    if clash.disclosed != disclosed:
        clash.disclosed = disclosed
        session.flush()
        audit(session, actor, "clash.disclose", "clash", clash.id, disclosed=disclosed)
    return clash


def review_clash(
    session: Session,
    actor: Actor,
    clash_id: int,
    status: str,
    note: str = "",
    *,
    expected_status: str | None = None,
) -> Clash:
    """A coordinator's decision: open, combine, accepted or dismissed, with a note.

    ``expected_status`` (optional) is the status the reviewer saw: when the clash has
    moved on since (another review, or a recompute resolved it), the review is refused
    with a Conflict rather than overwriting a decision nobody saw.
    """
    policy.require_coordinator(actor)
    new = _parse(ClashStatus, status, "status")
    if new not in REVIEW_STATUSES:
        raise ValidationError(
            f"a review sets open, combine, accepted or dismissed, not {status!r}",
            errors={"status": "one of open, combine, accepted, dismissed"},
        )
    expected = _parse(ClashStatus, expected_status, "expected_status")
    clash = session.get(Clash, clash_id, with_for_update=True) if 0 < clash_id <= MAX_ID else None
    if clash is None:
        raise NotFound(f"no clash {clash_id}")
    if clash.status is ClashStatus.RESOLVED:
        raise Conflict(
            f"clash {clash_id} is resolved: its works no longer meet, there is nothing to review",
            current_status=clash.status.value,
        )
    if expected is not None and clash.status is not expected:
        raise Conflict(
            f"clash {clash_id} is {clash.status.value} now, not {expected.value}: "
            "read it again before you review it",
            current_status=clash.status.value,
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


@dataclass(frozen=True)
class CombinationView:
    """A combination proposal as one viewer may see it: made of works they may see."""

    combination: Combination
    works: list[Work]
    organisation_ids: list[int]
    clash_ids: list[int]
    no_window_reason: str | None


def list_combinations(
    session: Session,
    actor: Actor,
    settings: Mapping | None = None,
    *,
    organisation_id: int | None = None,
) -> list[CombinationView]:
    """The combination proposals ``actor`` may see, largest saving first.

    For a partner they are worked out from the works and opportunities they may see only,
    so that no window, length, saving or grouping depends on a work they may not see.
    Pass the app's config as ``settings`` for its unit figures. ``organisation_id`` keeps
    the proposals with a work of that organisation.
    """
    policy.require_login(actor)
    visible = None if policy.is_coordinator(actor) else policy.visible_works(actor)
    proposals = combinations(session, settings, visible=visible, organisation_id=organisation_id)
    return [
        CombinationView(p, p.works, p.organisation_ids, p.clash_ids, p.no_window_reason)
        for p in proposals
    ]


@dataclass(frozen=True)
class DraftClash:
    """A clash the draft would have, with a work or dig ban the viewer may see."""

    found: engine.Found
    rule: ClashRule
    other: Work | DigBan
    explanation: dict[str, str]
    distance_m: float
    meeting: BaseGeometry


def check_work(
    session: Session, actor: Actor, data: WorkData, *, work_id: int | None = None
) -> list[DraftClash]:
    """The clashes a work would have with ``data``, best first; nothing is saved.

    ``work_id`` names the work being edited (it does not clash with its old self). Any
    logged-in partner may check a draft, against the works and dig bans they may see: a
    draft leaves no trace, so what it meets of a hidden work is not told at all (after a
    save, the coordinator sees every clash and the organisation is told, see the module's
    docstring).
    """
    policy.require_login(actor)
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
    this = Side("this work", data.start_date, data.end_date)
    out = []
    for f in found:
        rule = rules[f.rule_id]
        other: Work | DigBan | None
        if f.dig_ban_id is not None:
            other = session.get(DigBan, f.dig_ban_id)
        else:
            other_id = f.work_b_id if f.work_a_id == draft.work_id else f.work_a_id
            other = _seen(session, actor, session.get(Work, other_id))
        if other is None:
            continue
        side = Side(_label(other), other.start_date, other.end_date)
        explanation = explain(_facts(f, rule, f.distance_m), this, side)
        out.append(DraftClash(f, rule, other, explanation, f.distance_m, f.geometry))
    return out
