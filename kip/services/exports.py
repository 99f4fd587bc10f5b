"""Export works, filtered as the API filters them, as GeoJSON, GeoPackage, CSV or XLSX.

Who may see which work is not decided here: :func:`export_works` takes the acting
:class:`~kip.actors.Actor` and a ``where`` clause on :class:`~kip.models.Work`; when no
clause is given it asks :func:`kip.policy.visible_works` for the actor's. Deleted works are
never exported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from .. import geo
from ..actors import Actor
from ..db import bound_srid
from ..errors import ValidationError
from ..io import writers
from ..models import Organisation, Work
from .search import WorkFilter, conditions

__all__ = ["FORMATS", "ExportResult", "WorkFilter", "export_works"]

FORMATS = {
    "geojson": ("application/geo+json", ".geojson"),
    "gpkg": ("application/geopackage+sqlite3", ".gpkg"),
    "csv": ("text/csv; charset=utf-8", ".csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
}

# The exported columns, in order; an export re-imports with these names as they are.
COLUMNS = [
    "kip_id",
    "external_ref",
    "title",
    "description",
    "organisation",
    "discipline",
    "phase",
    "start_date",
    "end_date",
    "precision",
    "excavation",
    "traffic_impact",
    "visibility",
    "contact_name",
    "contact_email",
    "contact_phone",
    "budget",
    "tags",
    "version",
]


@dataclass
class ExportResult:
    data: bytes
    count: int
    media_type: str
    extension: str


def export_works(
    session: Session,
    actor: Actor,
    fmt: str,
    filters: WorkFilter | None = None,
    *,
    where: ColumnElement[bool] | None = None,
) -> ExportResult:
    """The works ``actor`` may see that match ``filters``, as a file of format ``fmt``.

    ``where`` is the visibility hook: a clause on :class:`Work` that replaces the default,
    :func:`kip.policy.visible_works` for ``actor``.
    """
    if fmt not in FORMATS:
        raise ValidationError(f"unknown export format {fmt!r}; use {', '.join(FORMATS)}")
    filters = filters or WorkFilter()
    stmt = (
        select(
            Work.id,
            Work.external_ref,
            Work.title,
            Work.description,
            Organisation.name,
            Work.discipline_code,
            Work.phase_code,
            Work.start_date,
            Work.end_date,
            Work.precision,
            Work.excavation,
            Work.traffic_impact,
            Work.visibility,
            Work.contact_name,
            Work.contact_email,
            Work.contact_phone,
            Work.budget,
            Work.tags,
            Work.version,
            func.ST_AsBinary(Work.geom).label("wkb"),
        )
        .join(Organisation, Organisation.id == Work.organisation_id)
        .where(and_(Work.deleted_at.is_(None), *conditions(actor, filters, visible=where)))
        .order_by(Work.id)
    )
    records: list[dict[str, Any]] = []
    wkbs: list[bytes] = []
    for row in session.execute(stmt):
        values = list(row)
        wkbs.append(bytes(values.pop()))
        record = dict(zip(COLUMNS, values, strict=True))
        for name in ("precision", "traffic_impact", "visibility"):
            record[name] = getattr(record[name], "value", record[name])
        records.append(record)
    geometries = shapely.from_wkb(np.array(wkbs, dtype=object)) if wkbs else np.empty(0, object)
    srid = bound_srid()
    media_type, extension = FORMATS[fmt]
    if fmt == "gpkg":
        data = writers.write_gpkg(records, geometries, COLUMNS, srid)
    else:
        lonlat = geo.reproject(geometries, srid, 4326) if len(geometries) else geometries
        if fmt == "geojson":
            data = writers.write_geojson(records, lonlat)
        elif fmt == "csv":
            data = writers.write_csv(records, lonlat, COLUMNS)
        else:
            data = writers.write_xlsx(records, lonlat, COLUMNS)
    return ExportResult(data, len(records), media_type, extension)
