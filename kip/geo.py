"""Pure geometry helpers: validation, reprojection, conversion to and from the database.

Every reprojection is made with ``always_xy=True``, so that no latitude/longitude is ever
swapped: here for a stored geometry on its way out (:func:`reproject`), in
:mod:`kip.io.geometry` - KIP's one intake of geometries from the API, the forms and the
import - for what comes in, and in the database (``ST_Transform``) for what goes to the
web.
Nothing in this module knows Flask or a session.
"""

from __future__ import annotations

import struct
from functools import lru_cache

import numpy as np
import shapely
from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from pyproj import Transformer
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from .work_fields import GEOMETRY_TYPES

ALLOWED_TYPES = frozenset(GEOMETRY_TYPES)


class GeometryProblem(ValueError):
    """A geometry KIP cannot take; the message says why in words a planner understands.

    ``reason`` names the problem for a page that says it in its own (translated) words:
    ``unreadable``, ``missing``, ``kind``, ``empty``, ``invalid``, ``too_many``,
    ``outside``, ``swapped``, ``crs``. ``field`` is the input at fault (``geometry`` or
    ``crs``), ``short`` a few words for an API's per-field errors.
    """

    def __init__(
        self, message: str, reason: str = "invalid", *, field: str = "geometry", short: str = ""
    ) -> None:
        super().__init__(message)
        self.reason, self.field, self.short = reason, field, short or message


@lru_cache(maxsize=32)
def transformer(source_srid: int, target_srid: int) -> Transformer:
    return Transformer.from_crs(source_srid, target_srid, always_xy=True)


def reproject(geom: BaseGeometry, source_srid: int, target_srid: int) -> BaseGeometry:
    """Reproject a shapely geometry (vectorised over all its coordinates).

    >>> from shapely import Point
    >>> p = reproject(Point(5.6656, 52.0406), 4326, 28992)
    >>> round(p.x, -2), round(p.y, -2)
    (174100.0, 450300.0)
    """
    if source_srid == target_srid:
        return geom
    t = transformer(source_srid, target_srid)
    return shapely.transform(geom, lambda xy: _stack(t.transform(xy[:, 0], xy[:, 1])))


def _stack(xy):
    import numpy as np

    return np.column_stack(xy)


def check_geometry(geom: BaseGeometry) -> BaseGeometry:
    """Return ``geom`` when KIP can store it, else raise :class:`GeometryProblem`.

    >>> from shapely import Polygon, GeometryCollection
    >>> check_geometry(Polygon([(0, 0), (2, 2), (2, 0), (0, 2)]))
    Traceback (most recent call last):
    ...
    kip.geo.GeometryProblem: the polygon is not valid: Self-intersection[1 1]
    >>> check_geometry(GeometryCollection())
    Traceback (most recent call last):
    ...
    kip.geo.GeometryProblem: the geometry is empty
    """
    if geom.is_empty:
        raise GeometryProblem("the geometry is empty", "empty")
    if geom.geom_type not in ALLOWED_TYPES:
        raise GeometryProblem(
            f"a {geom.geom_type} cannot be stored; use a point, line or polygon "
            "(or a multi-part one)",
            "kind",
        )
    if shapely.has_z(geom):
        geom = shapely.force_2d(geom)
    if not geom.is_valid:
        raise GeometryProblem(
            f"the {geom.geom_type.lower()} is not valid: {explain_validity(geom)}"
        )
    return geom


def too_many_vertices(geoms: np.ndarray, limit: int) -> dict[int, str]:
    """By index, the geometries with more than ``limit`` vertices, and what to say of each.

    The one check of a geometry's size, for every way in (API, form, import), made before
    anything costly: counting reads the sizes of the coordinate arrays and touches no
    coordinate. A missing geometry (None) has none.

    >>> from shapely import LineString, Point
    >>> line = LineString([(0, 0), (1, 1), (2, 0)])
    >>> problems = too_many_vertices(np.array([Point(0, 0), line, None]), 2)
    >>> problems  # doctest: +ELLIPSIS
    {1: 'the geometry has 3 vertices, more than the 2 KIP takes (GEOMETRY_MAX_VERTICES): ...'}
    """
    counts = shapely.get_num_coordinates(geoms)
    return {
        int(i): (
            f"the geometry has {counts[i]:,} vertices, more than the {limit:,} KIP takes "
            "(GEOMETRY_MAX_VERTICES): simplify it in your GIS, or split the work"
        )
        for i in np.flatnonzero(counts > limit)
    }


def to_db(geom: BaseGeometry, srid: int) -> WKBElement:
    """A shapely geometry in the project CRS, as a value for a geometry column."""
    return from_shape(geom, srid=srid)


_SRID_FLAG = 0x20000000  # EWKB: an SRID follows the type


def ewkb(geoms: np.ndarray, srid: int) -> np.ndarray:
    """Geometries as EWKB bytes (what a binary COPY or ``ST_GeomFromEWKB`` takes), None
    where there is none.

    The SRID is spliced into little-endian WKB (the type's SRID flag set, the SRID after
    it) rather than set on every geometry first: ``shapely.set_srid`` copies each one,
    three times the cost for a hundred thousand.

    >>> from shapely import Point
    >>> ewkb(np.array([Point(1, 2), None]), 28992)[0].hex()
    '010100002040710000000000000000f03f0000000000000040'
    """
    out = np.full(len(geoms), None, dtype=object)
    present = ~shapely.is_missing(geoms) if len(geoms) else np.zeros(0, dtype=bool)
    if present.any():
        srid_bytes = struct.pack("<I", srid)
        out[present] = [
            b[:1]
            + (int.from_bytes(b[1:5], "little") | _SRID_FLAG).to_bytes(4, "little")
            + srid_bytes
            + b[5:]
            for b in shapely.to_wkb(geoms[present], byte_order=1).tolist()
        ]
    return out


def from_db(value: WKBElement) -> BaseGeometry:
    return to_shape(value)


def geojson(geom: BaseGeometry | None, srid: int, target_srid: int = 4326) -> dict | None:
    """A geometry stored in ``srid`` as a GeoJSON mapping in ``target_srid`` (None if empty).

    >>> from shapely import Point
    >>> geojson(Point(5.0, 52.0), 4326)
    {'type': 'Point', 'coordinates': (5.0, 52.0)}
    >>> geojson(None, 28992) is None
    True
    """
    if geom is None or geom.is_empty:
        return None
    return mapping(reproject(geom, srid, target_srid))
