"""Dig bans proposed from completed road works: computed here, never stored here.

When a road/pavement work is completed, the new surface deserves rest: KIP proposes a dig
ban over the work's geometry grown by ``DIG_BAN_BUFFER_M``, from the day after the work
ended, for ``DIG_BAN_YEARS`` (:func:`ban_period`). A proposal is computed, not stored: every
completed road work without a ban of its own has one (:func:`pending_proposals`), until a
coordinator accepts it. Who may do that, the checks, the audit trail and the writing are
the dig-ban service's (:mod:`kip.services.digbans`); a ban's violations are found by
:func:`kip.engine.recompute_dig_bans`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import dates, geo
from ..config import DEFAULTS
from ..dates import ENVELOPE, DateRange
from ..db import bound_srid
from ..models import DigBan, Street, Work

COMPLETED = "completed"


@dataclass(frozen=True)
class DigBanProposal:
    organisation_id: int
    source_work_id: int | None
    title: str
    reason: str
    geometry: BaseGeometry
    start_date: date
    end_date: date
    # The work's own title, for the coordinator who decides on the proposal; never stored
    # with the ban.
    source_title: str = ""


def ban_period(start: date, years: int) -> tuple[date, date]:
    """The first and last day of a ban that starts on ``start`` and lasts ``years`` years
    (a ban from 29 February ends on 27 February).

    >>> ban_period(date(2027, 3, 10), 3)
    (datetime.date(2027, 3, 10), datetime.date(2030, 3, 9))
    >>> ban_period(date(2028, 2, 29), 1)
    (datetime.date(2028, 2, 29), datetime.date(2029, 2, 27))
    """
    try:
        later = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        later = start.replace(year=start.year + years, day=28)
    return start, later - timedelta(days=1)


def propose_dig_ban(
    work: Work, settings: Mapping | None = None, days: DateRange = ENVELOPE
) -> DigBanProposal | None:
    """The dig ban a completed road/pavement work calls for; None for any other work.

    The ban stays within ``days`` (the dates KIP keeps): it ends on their last day at the
    latest, and a work that ends on that day calls for none.
    """
    cfg = {**DEFAULTS, **(settings or {})}
    if work.phase_code != COMPLETED or work.discipline_code not in cfg["DIG_BAN_DISCIPLINES"]:
        return None
    if work.deleted_at is not None or work.end_date >= days.last:
        return None
    area = shapely.buffer(geo.from_db(work.geom), float(cfg["DIG_BAN_BUFFER_M"]))
    start, end = ban_period(work.end_date + timedelta(days=1), int(cfg["DIG_BAN_YEARS"]))
    return DigBanProposal(
        organisation_id=work.organisation_id,
        source_work_id=work.id,
        source_title=work.title,
        # The words say why and (see pending_proposals) where, never which work: the ban
        # is shown to every partner, the work may be confidential (docs/security.md).
        title=str(cfg["DIG_BAN_TITLE"])[:200],
        reason=str(cfg["DIG_BAN_REASON"]).format(years=int(cfg["DIG_BAN_YEARS"])),
        geometry=area,
        start_date=start,
        end_date=days.clip(end),
    )


def pending_proposals(session: Session, settings: Mapping | None = None) -> list[DigBanProposal]:
    """Proposals for every completed road work that has no dig ban of its own yet."""
    cfg = {**DEFAULTS, **(settings or {})}
    has_ban = select(DigBan.id).where(DigBan.source_work_id == Work.id).exists()
    works = session.execute(
        select(Work)
        .where(
            Work.phase_code == COMPLETED,
            Work.discipline_code.in_(cfg["DIG_BAN_DISCIPLINES"]),
            Work.deleted_at.is_(None),
            ~has_ban,
        )
        .order_by(Work.id)
    ).scalars()
    days = dates.allowed(session)
    proposals = [p for w in works if (p := propose_dig_ban(w, cfg, days)) is not None]
    return [_named_by_streets(session, p, cfg) for p in proposals]


def _named_by_streets(session: Session, proposal: DigBanProposal, cfg: Mapping) -> DigBanProposal:
    """The proposal titled after the (at most two) streets its area covers most: a place
    the area shows anyway, where a partner looks for it. Without streets it keeps the
    plain title."""
    area = func.ST_GeomFromWKB(shapely.to_wkb(proposal.geometry), bound_srid())
    covered = func.sum(func.ST_Length(func.ST_Intersection(Street.geom, area)))
    names = session.execute(
        select(Street.name)
        .where(func.ST_Intersects(Street.geom, area))
        .group_by(Street.name)
        .order_by(covered.desc(), Street.name)
        .limit(2)
    ).scalars()
    streets = ", ".join(names)
    if not streets:
        return proposal
    title = str(cfg["DIG_BAN_TITLE_STREETS"]).format(streets=streets)[:200]
    return replace(proposal, title=title)
