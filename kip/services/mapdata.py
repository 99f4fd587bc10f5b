"""Works for maps: light GeoJSON for a bounding box, a period and a zoom level.

A map of a city with tens of thousands of works cannot carry them all. The map asks for
what is in view (``bbox``), in the period it shows, at its zoom: below
:data:`DETAIL_ZOOM` each work is one point on its surface (the map clusters them); from
there on, its geometry simplified to about half a screen pixel. Coordinates are rounded to
what the zoom can show, and only what a popup needs travels. Everything honours
:func:`kip.policy.visible_works`; ``public=True`` narrows it to what the public sees,
whoever asks (the public map shows the same to everyone).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, text
from sqlalchemy.orm import Session

from .. import policy
from ..actors import Actor
from ..errors import ValidationError
from ..models import Organisation, Work
from .search import WorkFilter, conditions

DETAIL_ZOOM = 15
DEFAULT_LIMIT = 2000
MAX_LIMIT = 5000
PERIODS = ("now", "4w", "year", "custom")
# Metres per screen pixel at zoom 0 at the equator (Web Mercator, 256 px tiles).
_METRES_PER_PIXEL_Z0 = 156_543.03


@dataclass(frozen=True)
class MapQuery:
    """What a map shows. ``bbox`` is (min lon, min lat, max lon, max lat) in EPSG:4326."""

    bbox: tuple[float, float, float, float] | None = None
    start: date | None = None
    end: date | None = None
    zoom: int = 13
    disciplines: tuple[str, ...] = ()
    organisation_id: int | None = None
    public: bool = False
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class MapWorks:
    features: list[dict[str, Any]]
    truncated: bool
    detail: str  # "point" (one point per work) or "shape" (simplified geometry)


def period_bounds(
    period: str, today: date, start: date | None = None, end: date | None = None
) -> tuple[date, date]:
    """The dates a named period of the map's time filter covers (inclusive).

    >>> period_bounds("now", date(2027, 3, 10))
    (datetime.date(2027, 3, 10), datetime.date(2027, 3, 10))
    >>> period_bounds("4w", date(2027, 3, 10))
    (datetime.date(2027, 3, 10), datetime.date(2027, 4, 6))
    >>> period_bounds("year", date(2027, 3, 10))
    (datetime.date(2027, 1, 1), datetime.date(2027, 12, 31))
    >>> period_bounds("custom", date(2027, 3, 10), date(2027, 5, 1), None)
    (datetime.date(2027, 5, 1), datetime.date(2027, 5, 1))
    """
    if period == "now":
        return today, today
    if period == "year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if period == "custom" and (start or end):
        first = start or end or today
        last = end or first
        if last < first:
            raise ValidationError(
                "end: the end of the period lies before its start", errors={"end": "before start"}
            )
        return first, last
    return today, today + timedelta(days=27)


def simplify_tolerance(zoom: int) -> float:
    """Half a screen pixel at ``zoom``, in metres (at the latitude of the Low Countries).

    >>> round(simplify_tolerance(15), 2)
    1.43
    """
    return _METRES_PER_PIXEL_Z0 * 0.6 / 2**zoom / 2


def _digits(zoom: int) -> int:
    """Decimals of a degree that still matter at ``zoom`` (about a tenth of a pixel)."""
    return max(4, min(7, 2 + zoom // 3))


def _where(actor: Actor, query: MapQuery) -> ColumnElement[bool]:
    filters = WorkFilter(
        bbox=query.bbox,
        start=query.start,
        end=query.end,
        disciplines=query.disciplines,
        organisation_id=query.organisation_id,
    )
    visible = policy.visible_works(Actor.public() if query.public else actor)
    if query.public and not actor.is_public:
        visible = and_(visible, policy.visible_works(actor))
    return and_(*conditions(actor, filters, visible=visible))


def map_works(session: Session, actor: Actor, query: MapQuery) -> MapWorks:
    """The works in view as compact GeoJSON features (EPSG:4326), at most ``query.limit``."""
    if query.limit < 1 or query.limit > MAX_LIMIT:
        raise ValidationError(f"limit: 1 to {MAX_LIMIT}", errors={"limit": "out of range"})
    detail = "point" if query.zoom < DETAIL_ZOOM else "shape"
    shown = (
        func.ST_PointOnSurface(Work.geom)
        if detail == "point"
        else func.ST_SimplifyPreserveTopology(Work.geom, simplify_tolerance(query.zoom))
    )
    geometry = func.ST_AsGeoJSON(func.ST_Transform(shown, 4326), _digits(query.zoom))
    # PostGIS functions carry high cost estimates, so PostgreSQL's JIT would spend a second
    # compiling a query that runs in milliseconds. Off for this transaction only.
    session.execute(text("SET LOCAL jit = off"))
    rows = session.execute(
        _select(geometry)
        .join(Organisation, Organisation.id == Work.organisation_id)
        .where(_where(actor, query))
        .order_by(Work.start_date, Work.id)
        .limit(query.limit + 1)
    ).all()
    features = [_feature(row) for row in rows[: query.limit]]
    return MapWorks(features=features, truncated=len(rows) > query.limit, detail=detail)


def _select(geometry: Any) -> Select:
    """What a map shows of a work, with ``geometry`` (GeoJSON text) last."""
    return select(
        Work.id,
        Work.title,
        Work.discipline_code,
        Work.organisation_id,
        Organisation.name,
        Work.start_date,
        Work.end_date,
        Work.excavation,
        Work.traffic_impact,
        Work.contact_name,
        Work.contact_email,
        Work.contact_phone,
        geometry,
    )


def _feature(row: Any) -> dict[str, Any]:
    (
        id_,
        title,
        discipline,
        org_id,
        org,
        start,
        end,
        excavation,
        impact,
        name,
        email,
        phone,
        geometry,
    ) = row
    contact = {k: v for k, v in (("name", name), ("email", email), ("phone", phone)) if v}
    return {
        "type": "Feature",
        "id": id_,
        "geometry": json.loads(geometry),
        "properties": {
            "title": title,
            "discipline": discipline,
            "organisation": org,
            "organisation_id": org_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "excavation": excavation,
            "traffic": impact.value,
            "contact": contact,
        },
    }


def neighbours(
    session: Session, actor: Actor, work: Work, *, distance_m: float = 150, limit: int = 50
) -> list[dict[str, Any]]:
    """The works ``actor`` may see within ``distance_m`` of ``work`` (not itself), as the
    same compact features, nearest first."""
    here = select(Work.geom).where(Work.id == work.id).scalar_subquery()
    rows = session.execute(
        _select(func.ST_AsGeoJSON(func.ST_Transform(Work.geom, 4326), 6))
        .join(Organisation, Organisation.id == Work.organisation_id)
        .where(
            policy.visible_works(actor),
            Work.id != work.id,
            func.ST_DWithin(Work.geom, here, distance_m),
        )
        .order_by(func.ST_Distance(Work.geom, here), Work.id)
        .limit(limit)
    ).all()
    return [_feature(row) for row in rows]


def work_geojson(session: Session, work: Work) -> dict[str, Any]:
    """One work's geometry in EPSG:4326, as a GeoJSON object."""
    from .works import geometry_geojson

    return json.loads(geometry_geojson(session, work.id))


__all__ = [
    "DETAIL_ZOOM",
    "MAX_LIMIT",
    "PERIODS",
    "MapQuery",
    "MapWorks",
    "map_works",
    "neighbours",
    "period_bounds",
    "simplify_tolerance",
    "work_geojson",
]
