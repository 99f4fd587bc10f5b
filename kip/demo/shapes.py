"""Geometries of demo works, laid along the town's streets (RD New metres).

A trench follows the street a few metres off its centre line (each utility has its own
place in the Dutch street profile), a road reconstruction covers a stretch of street from
facade to facade, masts and trees stand in a row along the kerb.
"""

from __future__ import annotations

import random

import shapely
from shapely import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points, substring

GRID = 0.01

# Where a discipline's cables and pipes lie, in metres left (+) or right (-) of the centre.
OFFSET = {
    "sewer": 0.0,
    "water": 3.0,
    "gas": 4.0,
    "electricity": -3.5,
    "district_heating": 1.5,
    "telecom": -4.5,
    "road": 0.0,
    "green": 7.0,
    "lighting": -6.0,
    "traffic": 0.0,
    "other": 5.0,
    "housing": 8.0,
}


def tidy(geom: BaseGeometry) -> BaseGeometry:
    """Round to the centimetre (the precision reducer keeps polygons valid)."""
    return shapely.set_precision(geom, GRID)


def stretch(
    rng: random.Random, line: LineString, low: float = 0.4, high: float = 1.0
) -> LineString:
    """A random stretch of ``line``: between ``low`` and ``high`` of its length."""
    length = line.length
    part = length * rng.uniform(low, high)
    start = rng.uniform(0, length - part)
    return substring(line, start, start + part)


def around(line: LineString, other: BaseGeometry, reach: float) -> LineString:
    """The stretch of ``line`` within ``reach`` metres (along it) of where it comes nearest
    to ``other`` (for a street next to a work: the part around the junction)."""
    at = line.project(nearest_points(line, other)[0])
    return substring(line, max(0.0, at - reach), min(line.length, at + reach))


def shifted(line: LineString, distance: float) -> LineString:
    """The line moved sideways by ``distance`` (left when positive), or itself if that fails."""
    if distance == 0:
        return line
    moved = shapely.offset_curve(line, distance, join_style="mitre", mitre_limit=3.0)
    if isinstance(moved, LineString) and not moved.is_empty and moved.length > line.length / 2:
        return moved
    return line


def trench(line: LineString, discipline: str) -> LineString:
    """Where a discipline's trench runs along a street line."""
    return tidy(shifted(line, OFFSET[discipline]))


def corridor(line: LineString, width: float) -> Polygon:
    """The street space over a stretch: facade to facade, square at the ends."""
    return tidy(line.buffer(width / 2, cap_style="flat", join_style="mitre", mitre_limit=3.0))


def row(line: LineString, spacing: float, offset: float) -> MultiPoint:
    """Points every ``spacing`` metres along the line, ``offset`` metres to its side."""
    side = shifted(line, offset)
    count = max(2, int(side.length // spacing) + 1)
    step = side.length / count
    points = [side.interpolate(step * (i + 0.5)) for i in range(count)]
    return tidy(MultiPoint(points))


def spot(rng: random.Random, line: LineString, offset: float) -> Point:
    """One point somewhere along the line, to its side (a mast, a cabinet, a manhole)."""
    side = shifted(line, offset)
    return tidy(side.interpolate(rng.uniform(0.15, 0.85) * side.length))


def stubs(rng: random.Random, line: LineString, offset: float, count: int) -> MultiLineString:
    """Short lines from a main in the street to the facades (house connections)."""
    main = shifted(line, offset)
    facade = shifted(line, offset + (6.0 if offset >= 0 else -6.0))
    connections = []
    for i in range(count):
        d = (i + rng.uniform(0.2, 0.8)) / count
        connections.append(
            LineString(
                [main.interpolate(d, normalized=True), facade.interpolate(d, normalized=True)]
            )
        )
    return tidy(MultiLineString(connections))


def lines(parts: list[LineString]) -> LineString | MultiLineString:
    """Several stretches as one geometry: a MultiLineString (or the line when there is one)."""
    parts = [p for p in parts if not p.is_empty]
    return parts[0] if len(parts) == 1 else tidy(MultiLineString(parts))


def areas(parts: list[Polygon]) -> Polygon | MultiPolygon:
    """Several areas as one valid geometry (a MultiPolygon when they do not touch)."""
    return tidy(shapely.union_all(parts))
