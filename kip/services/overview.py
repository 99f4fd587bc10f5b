"""What the public may know of the plan at a glance: upcoming public works, by discipline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from .. import policy
from ..actors import Actor
from ..models import Discipline, Organisation, Work


@dataclass(frozen=True)
class DisciplineCount:
    code: str
    label_nl: str
    label_en: str
    colour: str
    works: int


@dataclass(frozen=True)
class UpcomingWork:
    id: int
    title: str
    organisation: str
    discipline: str
    start_date: date
    end_date: date


@dataclass(frozen=True)
class PublicOverview:
    total: int
    by_discipline: list[DisciplineCount]
    upcoming: list[UpcomingWork]


def _public_current(today: date):
    """What the public may see (see :mod:`kip.policy`), and not yet over."""
    return (policy.visible_works(Actor.public()), Work.end_date >= today)


def public_overview(session: Session, today: date, limit: int = 25) -> PublicOverview:
    conditions = _public_current(today)
    rows = session.execute(
        select(Discipline, func.count(Work.id))
        .outerjoin(Work, and_(Work.discipline_code == Discipline.code, *conditions))
        .where(Discipline.active.is_(True))
        .group_by(Discipline.code)
        .order_by(Discipline.sort_order)
    ).all()
    by_discipline = [DisciplineCount(d.code, d.label_nl, d.label_en, d.colour, n) for d, n in rows]
    upcoming = [
        UpcomingWork(w.id, w.title, org, w.discipline_code, w.start_date, w.end_date)
        for w, org in session.execute(
            select(Work, Organisation.name)
            .join(Organisation, Organisation.id == Work.organisation_id)
            .where(*conditions)
            .order_by(Work.start_date, Work.id)
            .limit(limit)
        ).all()
    ]
    return PublicOverview(
        total=sum(c.works for c in by_discipline), by_discipline=by_discipline, upcoming=upcoming
    )
