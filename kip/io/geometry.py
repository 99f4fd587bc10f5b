"""Check and reproject a whole column of geometries at once (shapely 2 + pyproj, vectorised).

The rules are those of :func:`kip.geo.check_geometry` (which also words the messages), plus
the size (:func:`kip.geo.too_many_vertices`, checked first, before anything costly) and the
region: a geometry must lie inside the deployment's ``REGION_BBOX``; one that would lie
inside only with its coordinates swapped is reported as swapped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import CRS, Transformer

from .. import geo
from ..config import DEFAULTS

# shapely type ids KIP stores: Point, LineString, Polygon and their Multi- forms.
_ALLOWED_TYPE_IDS = np.array([0, 1, 3, 4, 5, 6])


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
    problems = geo.too_many_vertices(geometries, max_vertices)
    result = np.full(len(geometries), None, dtype=object)
    missing = shapely.is_missing(geometries)
    for i in np.flatnonzero(missing):
        problems[int(i)] = "the row has no geometry"
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
            problems[i] = (
                f"{words} look swapped: the geometry lies inside the region only with its "
                "coordinates the other way round"
            )
        else:
            x, y = shapely.get_coordinates(shapes[k])[0]
            lon, lat = Transformer.from_crs(source, 4326, always_xy=True).transform(x, y)
            problems[i] = (
                f"the geometry lies outside the region (lon {region_bbox[0]}–{region_bbox[2]}, "
                f"lat {region_bbox[1]}–{region_bbox[3]}): its first point is at "
                f"lon {lon:.4f}, lat {lat:.4f}"
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


def _reason(shape: shapely.Geometry) -> str:
    try:
        geo.check_geometry(shape)
    except geo.GeometryProblem as problem:
        return str(problem)
    return "the geometry cannot be stored"
