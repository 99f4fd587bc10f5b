"""KIP's one geometry intake: geometries in, checked and in the project CRS.

- :func:`prepare_geometries` checks and reprojects a whole column at once (shapely 2 +
  pyproj, vectorised): the import's path, and the one under the others;
- :func:`read_geojson` reads one geometry from GeoJSON (a geometry, a Feature or a
  FeatureCollection), :func:`to_project_crs` checks it and brings it into the project
  CRS, and :func:`geometry_in_project_crs` does both: the API's and the forms' path.

The rules are those of :func:`kip.geo.check_geometry` (which also words the messages), with
the allowed types of :data:`kip.work_fields.GEOMETRY_TYPES`, plus the size
(:func:`kip.geo.too_many_vertices`, checked first, before anything costly) and the region:
a geometry must lie inside the deployment's ``REGION_BBOX``; one that would lie inside only
with its coordinates swapped is reported as swapped. A problem is a
:class:`kip.geo.GeometryProblem`, whose ``reason`` a page words in its own language.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from .. import geo
from ..config import DEFAULTS
from ..work_fields import GEOMETRY_TYPES

# shapely type ids KIP stores (Point, LineString, Polygon and their Multi- forms).
_ALLOWED_TYPE_IDS = np.array([shapely.GeometryType[t.upper()].value for t in GEOMETRY_TYPES])


def guess_crs(geometries: np.ndarray, project_srid: int) -> CRS:
    """For a CSV that does not say: lon/lat when every coordinate could be one, else the
    project CRS."""
    present = geometries[~shapely.is_missing(geometries)]
    if len(present):
        xmin, ymin, xmax, ymax = shapely.total_bounds(present)
        if -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90:
            return CRS.from_epsg(4326)
    return CRS.from_epsg(project_srid)


def _transformer(source: CRS, target_srid: int) -> Transformer:
    epsg = source.to_epsg()
    if epsg is not None:
        return geo.transformer(epsg, target_srid)
    return Transformer.from_crs(source, CRS.from_epsg(target_srid), always_xy=True)


def prepare_geometries(
    geometries: np.ndarray,
    source: CRS,
    target_srid: int,
    region_bbox: Sequence[float],
    *,
    max_vertices: int = DEFAULTS["GEOMETRY_MAX_VERTICES"],
) -> tuple[np.ndarray, dict[int, str]]:
    """Return the geometries in ``target_srid`` and, by row index, why a row's cannot be used.

    ``region_bbox`` is (min lon, min lat, max lon, max lat); ``max_vertices`` the most a
    geometry may have. A row with a problem keeps ``None`` in the result.
    """
    result, problems = check_geometries(
        geometries, source, target_srid, region_bbox, max_vertices=max_vertices
    )
    return result, {i: str(problem) for i, problem in problems.items()}


def check_geometries(
    geometries: np.ndarray,
    source: CRS,
    target_srid: int,
    region_bbox: Sequence[float],
    *,
    max_vertices: int = DEFAULTS["GEOMETRY_MAX_VERTICES"],
) -> tuple[np.ndarray, dict[int, geo.GeometryProblem]]:
    """:func:`prepare_geometries`, each problem a :class:`kip.geo.GeometryProblem` (with
    its ``reason``)."""
    problems: dict[int, geo.GeometryProblem] = {
        i: geo.GeometryProblem(message, "too_many")
        for i, message in geo.too_many_vertices(geometries, max_vertices).items()
    }
    result = np.full(len(geometries), None, dtype=object)
    missing = shapely.is_missing(geometries)
    for i in np.flatnonzero(missing):
        problems[int(i)] = geo.GeometryProblem("the row has no geometry", "missing")
    usable = ~missing
    usable[list(problems)] = False
    empty = np.zeros(len(geometries), dtype=bool)
    empty[usable] = shapely.is_empty(geometries[usable])
    wrong_type = np.zeros(len(geometries), dtype=bool)
    wrong_type[usable] = ~np.isin(shapely.get_type_id(geometries[usable]), _ALLOWED_TYPE_IDS)
    for i in np.flatnonzero(empty | wrong_type):
        problems[int(i)] = _reason(geometries[i])
    usable &= ~(empty | wrong_type)
    idx = np.flatnonzero(usable)
    if not len(idx):
        return result, problems
    shapes = shapely.force_2d(geometries[idx])

    # The region, as a box in the source CRS; a row inside only when swapped is "swapped".
    to_source = Transformer.from_crs(CRS.from_epsg(4326), source, always_xy=True)
    rx0, ry0, rx1, ry1 = to_source.transform_bounds(*region_bbox, densify_pts=21)
    b = shapely.bounds(shapes)
    with np.errstate(invalid="ignore"):
        inside = (b[:, 0] >= rx0) & (b[:, 1] >= ry0) & (b[:, 2] <= rx1) & (b[:, 3] <= ry1)
        swapped = (b[:, 1] >= rx0) & (b[:, 0] >= ry0) & (b[:, 3] <= rx1) & (b[:, 2] <= ry1)
    words = "latitude and longitude" if source.is_geographic else "x and y"
    for k in np.flatnonzero(~inside):
        i = int(idx[k])
        if swapped[k]:
            problems[i] = geo.GeometryProblem(
                f"{words} look swapped: the geometry lies inside the region only with its "
                "coordinates the other way round",
                "swapped",
            )
        else:
            x, y = shapely.get_coordinates(shapes[k])[0]
            lon, lat = Transformer.from_crs(source, 4326, always_xy=True).transform(x, y)
            problems[i] = geo.GeometryProblem(
                f"the geometry lies outside the region (lon {region_bbox[0]}–{region_bbox[2]}, "
                f"lat {region_bbox[1]}–{region_bbox[3]}): its first point is at "
                f"lon {lon:.4f}, lat {lat:.4f}",
                "outside",
            )
    idx, shapes = idx[inside], shapes[inside]
    if not len(idx):
        return result, problems
    t = _transformer(source, target_srid)
    if source.to_epsg() != target_srid:
        shapes = shapely.transform(shapes, lambda xy: np.column_stack(t.transform(*xy.T)))
    valid = shapely.is_valid(shapes)
    for k in np.flatnonzero(~valid):
        problems[int(idx[k])] = _reason(shapes[k])
    result[idx[valid]] = shapes[valid]
    return result, problems


def _reason(geometry: shapely.Geometry) -> geo.GeometryProblem:
    try:
        geo.check_geometry(geometry)
    except geo.GeometryProblem as problem:
        return problem
    return geo.GeometryProblem("the geometry cannot be stored")


# --- one geometry, as GeoJSON (the API and the forms) ---------------------------------------

_MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}
_SINGLE = {multi: single for single, multi in _MULTI.items()}
# The kinds of shape: points, lines or areas (each with its multi-part form).
ANY_KIND = frozenset(_MULTI)
WGS84 = CRS.from_epsg(4326)


def _unreadable() -> geo.GeometryProblem:
    return geo.GeometryProblem(
        "the coordinates do not make a valid GeoJSON geometry",
        "unreadable",
        short="malformed coordinates",
    )


def read_geojson(data: str | dict[str, Any], kinds: Collection[str] = ANY_KIND) -> BaseGeometry:
    """One geometry from GeoJSON (text or parsed): a geometry, a Feature or a
    FeatureCollection. Raises :class:`kip.geo.GeometryProblem`.

    Several shapes of one kind become one multi-part geometry; shapes of different kinds
    are refused (a work is points, lines or polygons), and so are kinds not in ``kinds``.
    Empty shapes are left out; nothing left is ``missing``.

    >>> read_geojson('{"type": "FeatureCollection", "features": ['
    ...     '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [5, 52]}},'
    ...     '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [6, 52]}}]}').wkt
    'MULTIPOINT ((5 52), (6 52))'
    >>> read_geojson({"type": "Point", "coordinates": [5, 52]}).wkt
    'POINT (5 52)'
    >>> read_geojson('{"type": "Point", "coordinates": [5, 52]}', {"Polygon"})
    Traceback (most recent call last):
    ...
    kip.geo.GeometryProblem: a point cannot be used here
    """
    try:
        parts = _parts(json.loads(data) if isinstance(data, str) else data)
    except Exception:  # bad JSON, nesting deeper than Python goes, malformed coordinates
        raise _unreadable() from None
    parts = [p for p in parts if not p.is_empty]
    if not parts:
        raise geo.GeometryProblem("the geometry is empty", "missing")
    found = {_SINGLE.get(p.geom_type, p.geom_type) for p in parts}
    if len(found) > 1:
        raise geo.GeometryProblem("shapes of one kind only: points, lines or areas", "kind")
    if not found <= set(kinds):
        kind = found.pop()
        raise geo.GeometryProblem(f"a {kind.lower()} cannot be used here", "kind")
    if len(parts) == 1:
        return parts[0]
    singles: list[BaseGeometry] = []
    for part in parts:
        singles.extend(part.geoms if part.geom_type in _SINGLE else [part])
    return getattr(shapely, _MULTI[singles[0].geom_type])(singles)


def _parts(data: dict[str, Any]) -> list[BaseGeometry]:
    kind = data["type"]
    if kind == "FeatureCollection":
        return [g for feature in data["features"] for g in _parts(feature)]
    if kind == "Feature":
        return _parts(data["geometry"]) if data["geometry"] else []
    if kind == "GeometryCollection":
        return [g for member in data["geometries"] for g in _parts(member)]
    return [shape(data)]


def source_crs(crs_text: str | None) -> CRS:
    """The CRS a client names (``EPSG:28992``, a URN, ...), GeoJSON's EPSG:4326 if none."""
    if not crs_text:
        return WGS84
    try:
        return CRS.from_user_input(crs_text)
    except CRSError:
        raise geo.GeometryProblem(
            f"{crs_text!r} is not a coordinate reference system KIP knows",
            "crs",
            field="crs",
            short="unknown CRS",
        ) from None


def to_project_crs(
    geometry: BaseGeometry,
    source: CRS,
    *,
    srid: int,
    region_bbox: Sequence[float],
    max_vertices: int,
    stored: BaseGeometry | None = None,
) -> BaseGeometry:
    """``geometry`` (in ``source``) checked and in the project CRS ``srid``; else raises
    :class:`kip.geo.GeometryProblem`.

    A round trip to EPSG:4326 and back moves coordinates by a fraction of a millimetre, so
    when a map sends back the ``stored`` geometry (in ``srid``) untouched, that is returned
    as it is rather than reprojected twice.

    >>> from shapely import Point
    >>> stored = Point(174100.123456, 450300.654321)
    >>> drawn = geo.reproject(stored, 28992, 4326)
    >>> to_project_crs(drawn, WGS84, srid=28992, region_bbox=(3.2, 50.7, 7.3, 53.6),
    ...                max_vertices=10, stored=stored) is stored
    True
    """
    try:
        shapes, problems = check_geometries(
            np.array([geometry], dtype=object),
            source,
            srid,
            region_bbox,
            max_vertices=max_vertices,
        )
    except Exception:  # an exotic CRS that cannot be transformed to or from
        raise geo.GeometryProblem(
            f"geometries in {source.to_string()} cannot be converted to the project's CRS",
            "crs",
            field="crs",
            short="cannot be converted",
        ) from None
    if problems:
        raise problems[0]
    if (
        stored is not None
        and source == WGS84
        and geometry.equals_exact(geo.reproject(stored, srid, 4326), 1e-9)
    ):
        return stored
    return shapes[0]


def geometry_in_project_crs(
    data: str | dict[str, Any],
    crs_text: str | None,
    *,
    srid: int,
    region_bbox: Sequence[float],
    max_vertices: int,
    kinds: Collection[str] = ANY_KIND,
) -> BaseGeometry:
    """GeoJSON (in the CRS ``crs_text`` names, EPSG:4326 if none) as a checked geometry in
    the project CRS ``srid``: :func:`read_geojson`, then :func:`to_project_crs`."""
    source = source_crs(crs_text)
    return to_project_crs(
        read_geojson(data, kinds),
        source,
        srid=srid,
        region_bbox=region_bbox,
        max_vertices=max_vertices,
    )
