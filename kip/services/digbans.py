"""Dig bans (*graafverboden*): every use case, for the pages, the API, the CLI and the demo.

The engine computes the bans completed road works call for (:mod:`kip.engine.digbans`) and
finds a ban's violations (:func:`kip.engine.recompute_dig_bans`); everything else about a
ban is written here, once: who may read and who may manage bans, the checks of a ban's
fields, the version check, the audit trail and the writing. Every partner (logged in, or a
token) sees the dig bans - a ban is a rule everybody who digs must know; the public does
not (a ban's title may name the work it protects). Only coordinators create, change and
end them (:func:`require_may_manage`). Functions flush and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import dates, geo, policy
from ..actors import Actor
from ..audit import audit
from ..config import DEFAULTS
from ..db import bound_srid
from ..engine import digbans as engine_bans
from ..engine import recompute_dig_bans
from ..engine.digbans import DigBanProposal
from ..errors import Conflict, NotFound, StaleVersion, ValidationError
from ..models import DigBan, Organisation, Work
from .works import MAX_ID, may_see

AREA_TYPES = ("Polygon", "MultiPolygon")


def area_from_wkt(text: str, srid: int | None = None) -> BaseGeometry:
    """An area given as WKT (in ``srid``, else the project CRS), in the project CRS.

    Text that is not WKT is a :class:`ValidationError` naming the geometry; whether the
    shape may be a ban's area is checked when the ban is stored."""
    try:
        shape = shapely.from_wkt(text or "")
    except shapely.errors.GEOSException:
        raise ValidationError(
            "the area is not valid WKT", errors={"geometry": "WKT of a polygon"}
        ) from None
    if srid and srid != bound_srid():
        shape = geo.reproject(shape, srid, bound_srid())
    return shape


@dataclass(frozen=True)
class DigBanData:
    """A ban as a coordinator gives it: an area (a shapely geometry in the project CRS, or
    WKT in ``area_srid``) and a period."""

    organisation_id: int
    title: str
    start_date: date
    end_date: date
    reason: str = ""
    area: BaseGeometry | None = None
    area_wkt: str | None = None
    area_srid: int | None = None

    def geometry(self) -> BaseGeometry:
        if self.area is not None:
            return self.area
        return area_from_wkt(self.area_wkt or "", self.area_srid)


def default_period(today: date | None = None, settings: Mapping | None = None) -> tuple[date, date]:
    """The period a new ban is offered with: from today, for ``DIG_BAN_YEARS`` years (the
    length a proposed ban gets).

    >>> default_period(date(2027, 3, 10), {"DIG_BAN_YEARS": 3})
    (datetime.date(2027, 3, 10), datetime.date(2030, 3, 9))
    >>> default_period(date(2028, 2, 29), {"DIG_BAN_YEARS": 1})
    (datetime.date(2028, 2, 29), datetime.date(2029, 2, 27))
    """
    cfg = {**DEFAULTS, **(settings or {})}
    return engine_bans.ban_period(today or date.today(), int(cfg["DIG_BAN_YEARS"]))


def data_of(ban: DigBan) -> DigBanData:
    """A stored ban as the values a coordinator gives (its area in the project CRS)."""
    return DigBanData(
        organisation_id=ban.organisation_id,
        title=ban.title,
        reason=ban.reason,
        start_date=ban.start_date,
        end_date=ban.end_date,
        area=geo.from_db(ban.geom),
    )


# --- who may do what ----------------------------------------------------------------------


def may_manage(actor: Actor) -> bool:
    """Whether ``actor`` may create, change and end dig bans, and see the proposals."""
    return policy.is_coordinator(actor)


def require_may_manage(actor: Actor) -> None:
    """Refuse (401 or 403) an ``actor`` who may not manage dig bans: every use case that
    writes calls it, and so may a page or an endpoint before it reads a request."""
    policy.require_coordinator(actor)


# --- reading ------------------------------------------------------------------------------


def list_dig_bans(
    session: Session, actor: Actor, *, include_ended: bool = False, today: date | None = None
) -> list[DigBan]:
    """The dig bans, soonest ending first (those that ended before today only on request)."""
    policy.require_login(actor)
    query = select(DigBan).order_by(DigBan.end_date, DigBan.id)
    if not include_ended:
        query = query.where(DigBan.end_date >= (today or date.today()))
    return list(session.execute(query).scalars())


def get_dig_ban(session: Session, actor: Actor, ban_id: int) -> DigBan:
    policy.require_login(actor)
    ban = session.get(DigBan, ban_id) if 0 < ban_id <= MAX_ID else None
    if ban is None:
        raise NotFound(f"no dig ban {ban_id}")
    return ban


def shown_source(session: Session, actor: Actor, ban: DigBan) -> int | None:
    """The work a ban was proposed after, when ``actor`` may see that work; else None.

    A ban's area and period are for everyone who digs; where it came from is not: the
    work may be confidential (docs/security.md)."""
    if ban.source_work_id is None:
        return None
    work = session.get(Work, ban.source_work_id)
    return work.id if work is not None and may_see(session, actor, work) else None


def pending_proposals(
    session: Session, actor: Actor, settings: Mapping | None = None
) -> list[DigBanProposal]:
    """The bans completed road works call for, not yet created (for coordinators)."""
    require_may_manage(actor)
    return engine_bans.pending_proposals(session, settings)


# --- writing ------------------------------------------------------------------------------


def create_dig_ban(
    session: Session,
    actor: Actor,
    data: DigBanData,
    *,
    source_work_id: int | None = None,
    external_ref: str | None = None,
) -> DigBan:
    """Create a ban over an area and a period (coordinators); its violations appear at once.

    ``source_work_id`` is the completed road work the ban protects (an accepted proposal,
    the demo); ``external_ref`` a key of the organisation's own (the demo's)."""
    require_may_manage(actor)
    area = _checked_area(session, data)
    ban = DigBan(
        organisation_id=data.organisation_id,
        source_work_id=source_work_id,
        external_ref=external_ref,
        title=data.title.strip(),
        reason=data.reason.strip(),
        geom=geo.to_db(area, bound_srid()),
        start_date=data.start_date,
        end_date=data.end_date,
    )
    session.add(ban)
    session.flush()
    audit(
        session,
        actor,
        "dig_ban.create",
        "dig_ban",
        ban.id,
        title=ban.title,
        source_work_id=ban.source_work_id,
    )
    recompute_dig_bans(session, [ban.id], actor=actor.label)
    return ban


def accept_proposal(
    session: Session, actor: Actor, work_id: int, settings: Mapping | None = None
) -> DigBan:
    """Create the ban proposed for the completed road work ``work_id``, in the name of the
    coordinator's organisation."""
    require_may_manage(actor)
    pending = {p.source_work_id: p for p in engine_bans.pending_proposals(session, settings)}
    proposal = pending.get(work_id)
    if proposal is None:
        raise NotFound(f"no pending dig ban proposal for work {work_id}")
    return _impose(session, actor, proposal)


def accept_all_proposals(
    session: Session, actor: Actor, settings: Mapping | None = None
) -> list[DigBan]:
    """Create every pending proposal's ban, as :func:`accept_proposal` creates one."""
    require_may_manage(actor)
    proposals = engine_bans.pending_proposals(session, settings)
    return [_impose(session, actor, p) for p in proposals]


def _impose(session: Session, actor: Actor, proposal: DigBanProposal) -> DigBan:
    # The ban is imposed by the coordinator's organisation: naming the work's own would
    # tell every partner who worked there (docs/security.md).
    data = DigBanData(
        organisation_id=actor.organisation_id or proposal.organisation_id,
        title=proposal.title,
        reason=proposal.reason,
        start_date=proposal.start_date,
        end_date=proposal.end_date,
        area=proposal.geometry,
    )
    return create_dig_ban(session, actor, data, source_work_id=proposal.source_work_id)


def update_dig_ban(
    session: Session,
    actor: Actor,
    ban_id: int,
    expected_version: int,
    *,
    title: str | None = None,
    reason: str | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    area: BaseGeometry | None = None,
) -> DigBan:
    """Change (or end, by an earlier ``end_date``) a ban; a stale version is refused."""
    require_may_manage(actor)
    ban = _read_version(session, actor, ban_id, expected_version)
    data = DigBanData(
        organisation_id=ban.organisation_id,
        title=ban.title if title is None else title,
        reason=ban.reason if reason is None else reason,
        start_date=start_date or ban.start_date,
        end_date=end_date or ban.end_date,
        area=area if area is not None else geo.from_db(ban.geom),
    )
    shape = _checked_area(session, data)
    ban.title, ban.reason = data.title.strip(), data.reason.strip()
    ban.start_date, ban.end_date = data.start_date, data.end_date
    if area is not None:
        ban.geom = geo.to_db(shape, bound_srid())
    _flush(session, ban_id)
    audit(session, actor, "dig_ban.update", "dig_ban", ban.id, version=ban.version)
    recompute_dig_bans(session, [ban.id], actor=actor.label)
    return ban


def may_end(ban: DigBan, today: date | None = None) -> bool:
    """Whether ending ``ban`` today changes anything: it has started and runs past today."""
    day = today or date.today()
    return ban.start_date <= day < ban.end_date


def end_dig_ban(
    session: Session,
    actor: Actor,
    ban_id: int,
    expected_version: int,
    *,
    on: date | None = None,
) -> DigBan:
    """End a ban: ``on`` (today unless given) becomes its last day, and its violations
    after that day resolve.

    Only a ban that has started by then and runs past it can be ended (:class:`Conflict`
    otherwise): ending never lengthens a ban, and a ban that has yet to start gets another
    period instead.
    """
    require_may_manage(actor)
    ban = _read_version(session, actor, ban_id, expected_version)
    day = on or date.today()
    outside = dates.allowed(session).problems(end_date=day)
    if outside:
        raise ValidationError("the dig ban cannot end then", errors=outside)
    if ban.end_date <= day:
        raise Conflict(f"dig ban {ban_id} already ends on {ban.end_date.isoformat()}")
    if ban.start_date > day:
        raise Conflict(
            f"dig ban {ban_id} starts on {ban.start_date.isoformat()}: change its period instead"
        )
    ban.end_date = day
    _flush(session, ban_id)
    audit(session, actor, "dig_ban.end", "dig_ban", ban.id, end_date=day.isoformat())
    recompute_dig_bans(session, [ban.id], actor=actor.label)
    return ban


def _checked_area(session: Session, data: DigBanData) -> BaseGeometry:
    """The ban's area, once every field of ``data`` may be stored (else ValidationError)."""
    errors = {}
    if not data.title.strip() or len(data.title) > 200:
        errors["title"] = "a title of 1 to 200 characters"
    if session.get(Organisation, data.organisation_id) is None:
        errors["organisation"] = f"no organisation {data.organisation_id}"
    days = dates.allowed(session)
    errors.update(days.problems(start_date=data.start_date, end_date=data.end_date))
    if errors:
        raise ValidationError("the dig ban cannot be stored", errors=errors)
    try:
        area = geo.check_geometry(data.geometry())
    except geo.GeometryProblem as problem:
        raise ValidationError(f"geometry: {problem}", errors={"geometry": str(problem)}) from None
    if area.geom_type not in AREA_TYPES:
        raise ValidationError("a dig ban is an area", errors={"geometry": "a polygon"})
    if data.end_date < data.start_date:
        raise ValidationError("the ban ends before it starts", errors={"end_date": "order"})
    return area


def _read_version(session: Session, actor: Actor, ban_id: int, expected_version: int) -> DigBan:
    ban = get_dig_ban(session, actor, ban_id)
    if ban.version != expected_version:
        raise StaleVersion(
            f"dig ban {ban_id} has changed since you read it (now version {ban.version})",
            current_version=ban.version,
        )
    return ban


def _flush(session: Session, ban_id: int) -> None:
    """Write the change; another writer's change to the same ban in between is stale."""
    try:
        session.flush()
    except StaleDataError:
        raise StaleVersion(f"dig ban {ban_id} was changed at the same time") from None
