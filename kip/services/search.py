"""Finding works: the filters the API, the pages and the exports share.

Everything here honours :func:`kip.policy.visible_works`: a filter narrows what the actor
may see, never widens it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from .. import policy
from ..actors import Actor
from ..db import bound_srid
from ..errors import ValidationError
from ..models import Organisation, Work


@dataclass(frozen=True)
class WorkFilter:
    """What to look for. ``bbox`` is (min lon, min lat, max lon, max lat) in EPSG:4326."""

    bbox: tuple[float, float, float, float] | None = None
    start: date | None = None
    end: date | None = None
    disciplines: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    organisation_id: int | None = None
    # Organisations by id or by name (case-insensitive), as the command line gives them.
    organisations: tuple[str, ...] = ()
    q: str | None = None
    extra: tuple[ColumnElement[bool], ...] = field(default=(), compare=False)

    @classmethod
    def parse(
        cls,
        *,
        bbox: str | None = None,
        start: date | None = None,
        end: date | None = None,
        disciplines: Iterable[str] = (),
        organisations: Iterable[str | int] = (),
        phases: Iterable[str] = (),
        q: str | None = None,
    ) -> WorkFilter:
        """From text as a URL or the command line gives it; bad input is a ValidationError.

        >>> WorkFilter.parse(bbox="5.6,52.0,5.7,52.1", organisations=["Waterbedrijf"]).bbox
        (5.6, 52.0, 5.7, 52.1)
        """
        if start is not None and end is not None and end < start:
            raise ValidationError("end is before start", errors={"end": "before start"})
        return cls(
            bbox=parse_bbox(bbox) if bbox else None,
            start=start,
            end=end,
            disciplines=tuple(disciplines),
            phases=tuple(phases),
            organisations=tuple(str(o) for o in organisations),
            q=(q or "").strip() or None,
        )


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``"minlon,minlat,maxlon,maxlat"`` as four floats, checked.

    >>> parse_bbox("5.6, 52.0, 5.7, 52.1")
    (5.6, 52.0, 5.7, 52.1)
    >>> parse_bbox("5.7,52.0,5.6,52.1")
    Traceback (most recent call last):
    ...
    kip.errors.ValidationError: bbox: the minimum longitude is larger than the maximum
    """
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise ValidationError(
            "bbox: give four numbers, minlon,minlat,maxlon,maxlat",
            errors={"bbox": "minlon,minlat,maxlon,maxlat"},
        )
    minlon, minlat, maxlon, maxlat = values
    if not (-180 <= minlon <= 180 and -180 <= maxlon <= 180):
        raise ValidationError("bbox: longitudes lie between -180 and 180", errors={"bbox": "lon"})
    if not (-90 <= minlat <= 90 and -90 <= maxlat <= 90):
        raise ValidationError("bbox: latitudes lie between -90 and 90", errors={"bbox": "lat"})
    if minlon > maxlon:
        raise ValidationError(
            "bbox: the minimum longitude is larger than the maximum", errors={"bbox": "order"}
        )
    if minlat > maxlat:
        raise ValidationError(
            "bbox: the minimum latitude is larger than the maximum", errors={"bbox": "order"}
        )
    return minlon, minlat, maxlon, maxlat


def conditions(
    actor: Actor, filters: WorkFilter, *, visible: ColumnElement[bool] | None = None
) -> list[ColumnElement[bool]]:
    """The WHERE clauses for ``filters``, within what ``actor`` may see.

    ``visible`` replaces :func:`kip.policy.visible_works` for callers that decide
    visibility themselves (a coordinator's export on behalf of someone, say).
    """
    seen = visible if visible is not None else policy.visible_works(actor)
    where: list[ColumnElement[bool]] = [seen, *filters.extra]
    if filters.bbox is not None:
        envelope = func.ST_Transform(func.ST_MakeEnvelope(*filters.bbox, 4326), bound_srid())
        where.append(func.ST_Intersects(Work.geom, envelope))
    if filters.start is not None and filters.end is not None and filters.end < filters.start:
        raise ValidationError(
            "end: the end of the period lies before its start", errors={"end": "before start"}
        )
    if filters.start is not None:
        where.append(Work.end_date >= filters.start)
    if filters.end is not None:
        where.append(Work.start_date <= filters.end)
    if filters.disciplines:
        where.append(Work.discipline_code.in_(filters.disciplines))
    if filters.phases:
        where.append(Work.phase_code.in_(filters.phases))
    if filters.organisation_id is not None:
        where.append(Work.organisation_id == filters.organisation_id)
    if filters.organisations:
        ids = [int(o) for o in filters.organisations if o.isdigit()]
        names = [o.lower() for o in filters.organisations if not o.isdigit()]
        where.append(
            or_(
                Work.organisation_id.in_(ids),
                Work.organisation_id.in_(
                    select(Organisation.id).where(func.lower(Organisation.name).in_(names))
                ),
            )
        )
    if filters.q:
        pattern = (
            "%" + filters.q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        )
        where.append(
            or_(
                Work.title.ilike(pattern),
                Work.description.ilike(pattern),
                Work.external_ref.ilike(pattern),
                Work.organisation_id.in_(
                    select(Organisation.id).where(Organisation.name.ilike(pattern))
                ),
            )
        )
    return where


def search_works(
    session: Session, actor: Actor, filters: WorkFilter, *, limit: int, offset: int
) -> tuple[list[tuple[Work, str]], int]:
    """One page of works (with their geometry as GeoJSON in EPSG:4326) and the total count."""
    where = and_(*conditions(actor, filters))
    total = session.execute(select(func.count()).select_from(Work).where(where)).scalar_one()
    rows = session.execute(page_query(where).limit(limit).offset(offset)).all()
    return [(work, geojson) for work, geojson in rows], total


def page_query(where: ColumnElement[bool]) -> Select:
    return (
        select(Work, func.ST_AsGeoJSON(func.ST_Transform(Work.geom, 4326), 7))
        .where(where)
        .order_by(Work.start_date, Work.id)
    )
