"""The demo town's street network: a fictional town laid over Ede, drawn in RD New.

The town is about 4 × 4 km around Ede's centre. An old centre (a market square inside a
canal ring, the *singel*) sits in the middle; six arterial roads run out of it, crossed by a
ring road about 1.2 km out; the wedges between the arterials are the districts, each a
slightly wavy grid of residential streets at its own angle, with some cross streets left out
(cul-de-sacs, parks). One outer district is a business park with a wider grid.

Everything is built with a seeded :class:`random.Random`, so the same seed gives the same
town, coordinate for coordinate. Coordinates are RD New (EPSG:28992) metres, rounded to the
centimetre; the loader reprojects them to the project CRS.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise

import shapely
from shapely import LineString, MultiLineString, Point, Polygon
from shapely.affinity import rotate, translate
from shapely.ops import substring

from . import names
from .shapes import tidy

SOURCE_SRID = 28992
"""The demo's own frame of reference: it is drawn in RD New and reprojected when loaded."""

CENTRE = (174100.0, 450290.0)
"""Ede's centre in RD New (about lon 5.6656, lat 52.0406)."""

HALF_SIZE = 2000.0
SINGEL_RADIUS = 300.0
RING_RADIUS = 1200.0
TOWN_RADIUS = 2150.0
ARTERIAL_ANGLES = (22.0, 78.0, 141.0, 197.0, 259.0, 318.0)
# District kind -> (range of the spacing of long streets, range of that of cross streets).
SPACING = {
    "inner": ((170.0, 205.0), (200.0, 250.0)),
    "outer": ((205.0, 250.0), (250.0, 310.0)),
    "business": ((300.0, 350.0), (340.0, 400.0)),
}


@dataclass(frozen=True)
class DemoStreet:
    """One street of the demo town: its ``ref`` is the street's ``source_ref``."""

    ref: str
    name: str
    kind: str  # "centre", "singel", "ring", "arterial" or "residential"
    district: str  # "" for the roads between districts (arterials, ring)
    geom: MultiLineString

    @property
    def line(self) -> LineString:
        """The street's longest part, the line works are laid along."""
        return max(self.geom.geoms, key=lambda part: part.length)


@dataclass(frozen=True)
class District:
    """A named part of the town; its streets share a theme (trees, birds, rivers...)."""

    name: str
    kind: str  # "centre", "residential" or "business"
    polygon: Polygon


@dataclass(frozen=True)
class Block:
    """The land between streets (shrunk off the road), with the street it faces most."""

    polygon: Polygon
    district: str
    street_ref: str


@dataclass(frozen=True)
class Town:
    """The streets, districts and blocks of the demo town, and its market square."""

    streets: tuple[DemoStreet, ...]
    districts: tuple[District, ...]
    blocks: tuple[Block, ...]
    market: Polygon
    by_ref: dict[str, DemoStreet] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_ref", {s.ref: s for s in self.streets})

    @cached_property
    def _adjacency(self) -> dict[str, tuple[str, ...]]:
        geoms = [s.geom for s in self.streets]
        result: dict[str, tuple[str, ...]] = {}
        for street in self.streets:
            near = shapely.distance(street.geom, geoms) < 1.0
            result[street.ref] = tuple(
                other.ref
                for other, hit in zip(self.streets, near, strict=True)
                if hit and other.ref != street.ref
            )
        return result

    def neighbours(self, street: DemoStreet) -> list[DemoStreet]:
        """The streets that meet ``street`` (at a junction), in a stable order."""
        return [self.by_ref[ref] for ref in self._adjacency[street.ref]]

    def in_district(self, district: str, kind: str | None = None) -> list[DemoStreet]:
        """The streets of a district (of one ``kind`` if given), in their order."""
        return [
            s for s in self.streets if s.district == district and (kind is None or s.kind == kind)
        ]


def _wobbly_ring(rng: random.Random, radius: float, wobble: float, n: int = 96) -> LineString:
    """A closed, gently irregular ring around the centre."""
    cx, cy = CENTRE
    harmonics = [
        (k, rng.uniform(0.3, 1.0) * wobble / 3, rng.uniform(0, 2 * math.pi)) for k in (2, 3, 4)
    ]
    coords = []
    for i in range(n):
        t = 2 * math.pi * i / n
        r = radius * (1 + sum(a * math.sin(k * t + p) for k, a, p in harmonics))
        coords.append((cx + r * math.cos(t), cy + r * math.sin(t)))
    coords.append(coords[0])
    return LineString(coords)


def _arterial(rng: random.Random, angle: float) -> LineString:
    """A road from the market out of town, drifting a few degrees as it goes."""
    cx, cy = CENTRE
    coords = [(cx, cy)]
    a = angle
    for r in (250.0, 650.0, 1050.0, 1500.0, 1950.0, 2600.0, 3200.0):
        a += rng.uniform(-3.5, 3.5)
        t = math.radians(a)
        coords.append((cx + r * math.cos(t), cy + r * math.sin(t)))
    return LineString(coords)


def _split_closed(ring: LineString, cuts: list[LineString]) -> list[LineString]:
    """Cut a closed ring where the ``cuts`` cross it, into arcs in order of the cuts."""
    positions = sorted(ring.project(ring.intersection(cut).representative_point()) for cut in cuts)
    arcs = []
    for start, end in zip(positions, [*positions[1:], positions[0] + ring.length], strict=True):
        if end <= ring.length:
            arcs.append(substring(ring, start, end))
        else:
            head = substring(ring, start, ring.length)
            tail = substring(ring, 0, end - ring.length)
            arcs.append(LineString([*head.coords, *tail.coords[1:]]))
    return arcs


def _wedge(a: LineString, b: LineString) -> Polygon:
    """The land between two arterials (b counter-clockwise of a), far beyond the town."""
    cx, cy = CENTRE
    start = math.atan2(a.coords[-1][1] - cy, a.coords[-1][0] - cx)
    end = math.atan2(b.coords[-1][1] - cy, b.coords[-1][0] - cx)
    if end < start:
        end += 2 * math.pi
    arc = [
        (cx + 3400 * math.cos(t), cy + 3400 * math.sin(t))
        for t in (start + (end - start) * i / 24 for i in range(1, 24))
    ]
    return Polygon([*a.coords, *arc, *reversed(b.coords[1:])])


def _parts(geom) -> Iterator[LineString]:
    for part in shapely.get_parts(geom):
        if isinstance(part, LineString) and not part.is_empty:
            yield part


def _grid(rng: random.Random, polygon: Polygon, kind: str) -> tuple[list, list]:
    """Long streets (wavy) and cross-street pieces (straight) filling a district."""
    spacing_a, spacing_b = (rng.uniform(low, high) for low, high in SPACING[kind])
    angle = rng.uniform(0, 90)
    amplitude = rng.uniform(0, 14)
    c = polygon.centroid
    minx, miny, maxx, maxy = polygon.bounds
    reach = math.hypot(maxx - minx, maxy - miny) / 2 + 50

    def place(line: LineString) -> LineString:
        return translate(rotate(line, angle, origin=(0, 0)), c.x, c.y)

    long_streets = []
    v = -reach + rng.uniform(0, spacing_a)
    while v < reach:
        phase = rng.uniform(0, 2 * math.pi)
        us = [-reach + i * 50 for i in range(int(2 * reach / 50) + 1)]
        wave = LineString([(u, v + amplitude * math.sin(u / 260 + phase)) for u in us])
        for part in _parts(polygon.intersection(place(wave))):
            if part.length >= 100:
                if part.length > 850:
                    long_streets += [
                        substring(part, 0, part.length / 2),
                        substring(part, part.length / 2, part.length),
                    ]
                else:
                    long_streets.append(part)
        v += spacing_a
    cross_lines = []
    u = -reach + rng.uniform(0, spacing_b)
    while u < reach:
        cross_lines += list(
            _parts(polygon.intersection(place(LineString([(u, -reach), (u, reach)]))))
        )
        u += spacing_b
    return long_streets, cross_lines


def _cross_streets(rng: random.Random, cross_lines: list, long_streets: list) -> list[LineString]:
    """Cut the cross lines at the long streets; keep most pieces, group them into streets."""
    everything = shapely.union_all(long_streets) if long_streets else None
    streets = []
    for line in cross_lines:
        cuts = [0.0, line.length]
        if everything is not None:
            hits = line.intersection(everything)
            cuts += [line.project(p) for p in shapely.get_parts(hits) if isinstance(p, Point)]
        cuts = sorted(set(round(d, 3) for d in cuts))
        pieces = [(a, b) for a, b in pairwise(cuts) if b - a >= 40]
        group: list[tuple[float, float]] = []
        size = rng.randint(1, 3)
        for piece in pieces:
            keep = rng.random() < 0.8
            if keep and group and abs(group[-1][1] - piece[0]) < 1e-6 and len(group) < size:
                group.append(piece)
                continue
            if group:
                streets.append(substring(line, group[0][0], group[-1][1]))
                size = rng.randint(1, 3)
            group = [piece] if keep else []
        if group:
            streets.append(substring(line, group[0][0], group[-1][1]))
    return streets


def _extended(line: LineString, by: float = 2.0) -> LineString:
    """The line made a little longer at both ends (so junctions node when polygonising)."""
    (x0, y0), (x1, y1) = line.coords[0], line.coords[1]
    (x8, y8), (x9, y9) = line.coords[-2], line.coords[-1]
    d0 = math.hypot(x1 - x0, y1 - y0) or 1.0
    d9 = math.hypot(x9 - x8, y9 - y8) or 1.0
    start = (x0 - (x1 - x0) / d0 * by, y0 - (y1 - y0) / d0 * by)
    end = (x9 + (x9 - x8) / d9 * by, y9 + (y9 - y8) / d9 * by)
    return LineString([start, *line.coords, end])


def _blocks(streets: list[DemoStreet], districts: list[District]) -> list[Block]:
    lines = [_extended(part) for s in streets for part in s.geom.geoms]
    faces = shapely.get_parts(shapely.polygonize([shapely.union_all(lines)]))
    geoms = [s.geom for s in streets]
    blocks = []
    for face in sorted(faces, key=lambda f: (round(f.centroid.x, 2), round(f.centroid.y, 2))):
        for part in shapely.get_parts(tidy(face.buffer(-9, join_style="mitre"))):
            if not isinstance(part, Polygon) or not 2500 <= part.area <= 150_000:
                continue
            centre = part.representative_point()
            district = next((d.name for d in districts if d.polygon.contains(centre)), None)
            if district is None:
                continue
            nearest = int(shapely.distance(centre, geoms).argmin())
            blocks.append(Block(part, district, streets[nearest].ref))
    return blocks


def build_town(seed: str) -> Town:
    """Draw the town for ``seed``; the same seed always gives the same town."""
    rng = random.Random(f"{seed}/town")
    cx, cy = CENTRE
    box = shapely.box(cx - HALF_SIZE, cy - HALF_SIZE, cx + HALF_SIZE, cy + HALF_SIZE)
    town = Polygon(_wobbly_ring(rng, TOWN_RADIUS, 0.08)).intersection(box)
    singel = _wobbly_ring(rng, SINGEL_RADIUS, 0.12)
    ring = _wobbly_ring(rng, RING_RADIUS, 0.09)
    centre_area, ring_area = Polygon(singel), Polygon(ring)
    market = rotate(shapely.box(cx - 55, cy - 40, cx + 55, cy + 40), rng.uniform(-15, 15))
    arterials = [_arterial(rng, a) for a in ARTERIAL_ANGLES]

    made: list[tuple[str, str, str, MultiLineString]] = []  # name, kind, district, geom

    def add(name: str, kind: str, district: str, geom) -> None:
        lines = [p for p in _parts(tidy(geom)) if p.length > 1]
        if lines:
            made.append((name, kind, district, MultiLineString(lines)))

    add("Markt", "centre", names.CENTRE_DISTRICT, market.exterior)
    inside = centre_area.difference(market)
    for (centre_name, inner, outer), arterial in zip(names.ARTERIALS, arterials, strict=True):
        add(centre_name, "centre", names.CENTRE_DISTRICT, arterial.intersection(inside))
        add(inner, "arterial", "", arterial.intersection(ring_area.difference(centre_area)))
        add(outer, "arterial", "", arterial.intersection(town.difference(ring_area)))
    for name, arc in zip(names.SINGEL, _split_closed(singel, arterials), strict=True):
        add(name, "singel", names.CENTRE_DISTRICT, arc)
    for name, arc in zip(names.RING, _split_closed(ring, arterials), strict=True):
        add(name, "ring", "", arc)
    lanes = [a.intersection(Point(cx, cy).buffer(175, quad_segs=8).exterior) for a in arterials]
    for name, i in zip(names.CENTRE_LANES, (0, 2, 4), strict=True):
        a, b = (lanes[i].representative_point(), lanes[i + 1].representative_point())
        add(name, "centre", names.CENTRE_DISTRICT, LineString([a, b]))

    districts = [District(names.CENTRE_DISTRICT, "centre", centre_area)]
    themes = iter(names.DISTRICTS)
    for k, arterial in enumerate(arterials):
        wedge = _wedge(arterial, arterials[(k + 1) % len(arterials)])
        for where, area in (
            ("inner", ring_area.difference(centre_area)),
            ("outer", town.difference(ring_area)),
        ):
            district_name, words, business = next(themes)
            polygon = max(shapely.get_parts(wedge.intersection(area)), key=lambda p: p.area)
            districts.append(
                District(district_name, "business" if business else "residential", polygon)
            )
            allocate = names.NameAllocator(words, business)
            long_streets, cross_lines = _grid(rng, polygon, "business" if business else where)
            for line in long_streets:
                add(allocate.long(), "residential", district_name, line)
            for line in _cross_streets(rng, cross_lines, long_streets):
                add(allocate.cross(), "residential", district_name, line)

    streets = [
        DemoStreet(f"DEMO-STR-{i:04d}", name, kind, district, geom)
        for i, (name, kind, district, geom) in enumerate(made, start=1)
    ]
    return Town(tuple(streets), tuple(districts), tuple(_blocks(streets, districts)), market)
