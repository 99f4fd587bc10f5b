"""Clashes: list, show, review; combination proposals; check a draft work without saving.

What the API, the pages and the CLI call. Functions take the session and the actor, flush
and never commit, and raise :class:`KipError`.

**Who sees which clash** (issue 6, point 3). Clashes are for partners: the public sees none
(:class:`~kip.errors.Unauthorized`). Coordinators and KIP itself see every clash whole. A
planner or token sees the clashes that involve a work they may see
(:func:`kip.policy.visible_works`); of a side they may not see (another organisation's
confidential work) they learn only that it exists:

- shown: the clash's kind, rule, status, score and measured facts (distance, days of
  overlap or gap, length shared) - the facts are about the pair, and the planner needs
  them to act;
- withheld: the hidden work's id, title, description, organisation, contact, discipline
  (a grid operator's confidential "electricity" is already a secret), phase, dates and
  geometry; the explanation does not name it nor give its dates (no dated "starts after"
  advice: that would give its period away); the review note and the notes in the
  history (a coordinator may have named the other work there); its id in combinations;
- the meeting place is reduced to *one point on the viewer's own work* (the point of
  their work closest to where the two meet): where their own work is touched is theirs
  to know; the shape of the meeting place (the shared stretch, the line to the other
  work) would draw part of the hidden work, so it is not shown. The bbox filter tests
  that same point, so boxes cannot probe the hidden part either; the organisation,
  discipline and period filters look at visible sides only, so counts cannot tell what
  a hidden side is.

A coordinator may decide otherwise (:func:`disclose_clash`): for a disclosed clash the
partners involved see both works whole, so they can talk about combining them. The
public never does, and the disclosure is kept in the audit trail.

The draft check (:func:`check_work`) is stricter: a draft costs nothing and leaves no
trace, so it could be moved around to find confidential works. A hidden work met by a
draft is reported with its kind, rule and days only - no distance, no meeting place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, true
from sqlalchemy.orm import Session

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
    Phase,
    Work,
)
from .works import MAX_ID, WorkData, _validate

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
class ClashView:
    """A clash as one viewer may see it: ``work_a``/``work_b`` are None when hidden.

    ``meeting`` is the meeting place as GeoJSON in EPSG:4326 (reduced to a point on the
    viewer's own work when a side is hidden); ``review_note`` is None when withheld.
    """

    clash: Clash
    work_a: Work | None
    work_b: Work | None
    dig_ban: DigBan | None
    explanation: dict[str, str]
    meeting: str | None
    review_note: str | None

    @property
    def redacted(self) -> bool:
        return self.work_a is None or (self.dig_ban is None and self.work_b is None)


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


def _visible_ids(actor: Actor) -> Select:
    return select(Work.id).where(policy.visible_works(actor))


def _may_see_clash(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Clash`: it involves a work ``actor`` may see."""
    if policy.is_coordinator(actor):
        return true()
    visible = _visible_ids(actor)
    return or_(Clash.work_a_id.in_(visible), Clash.work_b_id.in_(visible))


def _shown_meeting(actor: Actor) -> ColumnElement:
    """The meeting place as ``actor`` is shown it (see the module's docstring)."""
    if policy.is_coordinator(actor):
        return Clash.geom
    visible = _visible_ids(actor)
    a_seen = Clash.work_a_id.in_(visible)
    b_seen = or_(Clash.dig_ban_id.is_not(None), Clash.work_b_id.in_(visible))
    own_id = case((a_seen, Clash.work_a_id), else_=Clash.work_b_id)
    own_geom = select(Work.geom).where(Work.id == own_id).scalar_subquery()
    return case(
        (or_(Clash.disclosed, and_(a_seen, b_seen)), Clash.geom),
        else_=func.ST_ClosestPoint(own_geom, Clash.geom),
    )


def _conditions(actor: Actor, filters: ClashFilters) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [_may_see_clash(actor)]
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
        conds.append(func.ST_Intersects(_shown_meeting(actor), box))
    return conds


def _selected(actor: Actor) -> Select:
    meeting = func.ST_AsGeoJSON(func.ST_Transform(_shown_meeting(actor), 4326), 7)
    return select(Clash, meeting)


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
    rows = session.execute(
        _selected(actor)
        .where(*conds)
        .order_by(Clash.score.desc(), Clash.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return Page(_views(session, actor, [(c, g) for c, g in rows]), total, limit, offset)


def _firm(session: Session, work: Work) -> bool:
    phase = session.get(Phase, work.phase_code)
    return phase is not None and phase.is_firm and phase.takes_part


def _seen(
    session: Session, actor: Actor, work: Work | None, *, disclosed: bool = False
) -> Work | None:
    """The work when ``actor`` may see it here: by the policy, or because a coordinator
    disclosed this clash to the partners involved (never to the public)."""
    if work is None:
        return None
    if disclosed and not actor.is_public and work.deleted_at is None:
        return work
    if not policy.can_see_work(actor, work, firm_phase=_firm(session, work)):
        return None
    return work


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


def _views(session: Session, actor: Actor, rows: list[tuple[Clash, str | None]]) -> list[ClashView]:
    clashes = [c for c, _ in rows]
    work_ids = {c.work_a_id for c in clashes} | {c.work_b_id for c in clashes if c.work_b_id}
    ban_ids = {c.dig_ban_id for c in clashes if c.dig_ban_id}
    works = {w.id: w for w in session.execute(select(Work).where(Work.id.in_(work_ids))).scalars()}
    bans = {
        b.id: b for b in session.execute(select(DigBan).where(DigBan.id.in_(ban_ids))).scalars()
    }
    views = []
    for c, meeting in rows:
        a = _seen(session, actor, works.get(c.work_a_id), disclosed=c.disclosed)
        b = (
            _seen(session, actor, works.get(c.work_b_id), disclosed=c.disclosed)
            if c.work_b_id
            else None
        )
        ban = bans.get(c.dig_ban_id) if c.dig_ban_id else None
        facts = _facts(c, c.rule, c.distance_m)
        other = b if b is not None else ban
        if a is not None and other is not None:
            explanation = explain(
                facts,
                Side(_label(a), a.start_date, a.end_date),
                Side(_label(other), other.start_date, other.end_date),
            )
            note: str | None = c.review_note
        else:
            own = a if a is not None else b
            assert own is not None  # the query returns clashes with a visible side only
            explanation = explain_one_sided(facts, Side(_label(own), own.start_date, own.end_date))
            note = None
        views.append(ClashView(c, a, b, ban, explanation, meeting, note))
    return views


def get_clash(session: Session, actor: Actor, clash_id: int) -> ClashView:
    """One clash as ``actor`` may see it; NotFound when it does not exist or is not theirs."""
    policy.require_login(actor)
    row = None
    if 0 < clash_id <= MAX_ID:
        row = session.execute(
            _selected(actor).where(Clash.id == clash_id, _may_see_clash(actor))
        ).first()
    if row is None:
        raise NotFound(f"no clash {clash_id}")
    return _views(session, actor, [(row[0], row[1])])[0]


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
    """The events of a clash ``actor`` may see, oldest first (notes withheld if redacted)."""
    view = get_clash(session, actor, clash_id)
    events = session.execute(
        select(ClashEvent).where(ClashEvent.clash_id == clash_id).order_by(ClashEvent.id)
    ).scalars()
    return [
        HistoryEntry(
            e.action,
            e.status_from,
            e.status_to,
            None if view.redacted else e.note,
            e.actor,
            e.at,
        )
        for e in events
    ]


@dataclass(frozen=True)
class CombinationView:
    """A combination proposal as one viewer may see it: hidden works are only counted."""

    combination: Combination
    works: list[Work]
    hidden_works: int
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
    """The combination proposals that hold a work ``actor`` may see, largest saving first.

    Pass the app's config as ``settings`` for its unit figures. ``organisation_id`` keeps
    the proposals with a (visible) work of that organisation.
    """
    policy.require_login(actor)
    proposals = combinations(session, settings)
    out = []
    for p in proposals:
        seen = [w for w in p.works if _seen(session, actor, w) is not None]
        if not seen:
            continue
        if organisation_id is not None and all(w.organisation_id != organisation_id for w in seen):
            continue
        hidden = len(p.works) - len(seen)
        clash_ids = p.clash_ids
        if hidden:
            seen_ids = {w.id for w in seen}
            clash_ids = [
                cid
                for cid, a, b in session.execute(
                    select(Clash.id, Clash.work_a_id, Clash.work_b_id).where(
                        Clash.id.in_(p.clash_ids)
                    )
                )
                if a in seen_ids or b in seen_ids
            ]
        reason = p.no_window_reason
        if hidden and reason is not None:
            reason = "no common period: not all of these works run at the same time"
        out.append(
            CombinationView(
                p,
                seen,
                hidden,
                sorted({w.organisation_id for w in seen}),
                sorted(clash_ids),
                reason,
            )
        )
    return out


@dataclass(frozen=True)
class DraftClash:
    """A clash the draft would have. ``other`` is None when the viewer may not see it; then
    ``distance_m`` and ``meeting`` (project CRS) are None too."""

    found: engine.Found
    rule: ClashRule
    other: Work | DigBan | None
    explanation: dict[str, str]
    distance_m: float | None
    meeting: BaseGeometry | None


def check_work(
    session: Session, actor: Actor, data: WorkData, *, work_id: int | None = None
) -> list[DraftClash]:
    """The clashes a work would have with ``data``, best first; nothing is saved.

    ``work_id`` names the work being edited (it does not clash with its old self). Any
    logged-in partner may check a draft; what a draft meets of works they may not see is
    told as in the module's docstring.
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
            explanation = explain_one_sided(_facts(f, rule, f.distance_m), this)
            explanation["facts"] = _facts_without_distance(_facts(f, rule, f.distance_m))
            out.append(DraftClash(f, rule, None, explanation, None, None))
            continue
        side = Side(_label(other), other.start_date, other.end_date)
        explanation = explain(_facts(f, rule, f.distance_m), this, side)
        out.append(DraftClash(f, rule, other, explanation, f.distance_m, f.geometry))
    return out


def _facts_without_distance(f: Facts) -> str:
    """The facts sentence of a draft meeting a hidden work: within the limit, no metres."""
    days = (
        f"{f.overlap_days} days at the same time"
        if f.overlap_days
        else f"{f.gap_days} days between them (window {f.max_gap_days})"
    )
    return f"{f.rule_name} ({f.kind}): within {f.max_distance_m:g} m of another work, {days}."
