"""The everyday works of the demo town: maintenance, connections, masts, trees, housing.

Each :class:`Kind` says what a kind of work looks like (which discipline, what title, what
shape, how long it takes, whether it opens the ground, what it does to traffic) and how many
of them the town gets. They land on random streets and blocks, spread over 2026-2032.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import shapely
from shapely.ops import nearest_points

from ..models import Precision, TrafficImpact
from . import shapes, timing
from .plan import Planner
from .programmes import HEAT_DISTRICTS
from .town import DemoStreet

NONE, LANE, CLOSURE = TrafficImpact.NONE, TrafficImpact.LANE, TrafficImpact.CLOSURE


@dataclass(frozen=True)
class Kind:
    discipline: str
    title: str  # may name {street}, {other} (a second street), {district} and {n}
    shape: str  # line, route, stubs, corridor, corridors, spot, row, block, blocks, ...
    count: int
    days: tuple[int, int]
    excavation: bool
    impact: TrafficImpact
    tags: tuple[str, ...] = ()
    where: str = "any"  # any, heat (district heating areas) or main (arterials, ring)
    spacing: float = 30.0
    description: str = ""
    # When: "any" time in 2026-2032, "now" (a fault, around the plan date) or "soon".
    when: str = "any"
    precision: Precision | None = None  # None: as exact as the plan knows it that far ahead


_E, _K, _V = ("energietransitie",), ("klimaatadaptatie",), ("vervangingsopgave",)
_G, _S = ("glasvezel",), ("verkeersveiligheid",)

KINDS: tuple[Kind, ...] = (
    Kind(
        "sewer",
        "Relining riolering {street}",
        "line",
        16,
        (10, 40),
        False,
        LANE,
        _V,
        description="Sleufloos: de buis wordt van binnenuit vernieuwd.",
    ),
    Kind("sewer", "Vervangen rioolputten {street}", "row", 8, (10, 30), True, LANE, spacing=50),
    Kind("sewer", "Afkoppelen hemelwater {street}", "corridor", 9, (60, 180), True, CLOSURE, _K),
    Kind("sewer", "Aanleg wadi {street}", "block", 5, (30, 90), True, NONE, _K),
    Kind("sewer", "Renovatie rioolgemaal {street}", "spot", 4, (30, 120), True, LANE),
    Kind("sewer", "Infiltratiekratten {district}", "blocks", 3, (60, 200), True, NONE, _K),
    Kind("water", "Vervangen waterleiding {street}", "line", 16, (30, 120), True, LANE, _V),
    Kind("water", "Vervangen brandkranen {street}", "row", 6, (5, 20), True, NONE, spacing=80),
    Kind("water", "Lekkage hoofdleiding {street}", "spot", 5, (2, 8), True, CLOSURE, when="now"),
    Kind("water", "Vervangen huisaansluitingen {street}", "stubs", 7, (10, 40), True, LANE),
    Kind("water", "Transportleiding {street} - {other}", "route", 3, (90, 240), True, CLOSURE),
    Kind("gas", "Saneren gasleiding {street}", "line", 12, (20, 90), True, LANE, _V),
    Kind("gas", "Vervangen gasdrukregelstation {street}", "spot", 4, (10, 40), True, NONE),
    Kind(
        "gas",
        "Verwijderen gasnet {street} - {other}",
        "route",
        6,
        (30, 90),
        True,
        LANE,
        _E,
        description="De buurt gaat van het aardgas af.",
    ),
    Kind(
        "electricity",
        "Verzwaren middenspanningsnet {street} - {other}",
        "route",
        10,
        (30, 120),
        True,
        LANE,
        _E,
    ),
    Kind("electricity", "Nieuw transformatorstation {street}", "spot", 9, (20, 60), True, NONE, _E),
    Kind("electricity", "Laadpalen {street}", "few", 8, (5, 20), True, NONE, _E, spacing=12),
    Kind("electricity", "Vervangen laagspanningskabel {street}", "line", 8, (20, 60), True, LANE),
    Kind(
        "electricity",
        "Storing laagspanningskabel {street}",
        "spot",
        4,
        (1, 6),
        True,
        LANE,
        when="now",
    ),
    Kind(
        "electricity", "Netaansluitingen bedrijven {street}", "stubs", 4, (20, 60), True, LANE, _E
    ),
    Kind(
        "district_heating",
        "Aanleg warmtenet {street}",
        "line",
        14,
        (60, 200),
        True,
        CLOSURE,
        _E,
        where="heat",
    ),
    Kind(
        "district_heating",
        "Warmteoverdrachtstation {street}",
        "spot",
        4,
        (30, 90),
        True,
        NONE,
        _E,
        where="heat",
    ),
    Kind(
        "district_heating",
        "Aansluiten woningen op warmtenet {street}",
        "stubs",
        6,
        (20, 60),
        True,
        LANE,
        _E,
        where="heat",
    ),
    Kind(
        "district_heating",
        "Warmtetransportleiding {street} - {other}",
        "route",
        3,
        (120, 300),
        True,
        CLOSURE,
        _E,
        where="main",
    ),
    Kind("telecom", "Aanleg glasvezel {street}", "line", 12, (15, 60), True, LANE, _G),
    Kind("telecom", "Glasvezel huisaansluitingen {street}", "stubs", 6, (10, 30), True, NONE, _G),
    Kind("telecom", "Plaatsen straatkast {street}", "spot", 6, (3, 10), True, NONE, _G),
    Kind("telecom", "Antennemast {street}", "spot", 3, (20, 60), True, NONE),
    Kind("telecom", "Glasvezelring {street} - {other}", "route", 4, (30, 90), True, LANE, _G),
    Kind("road", "Vervangen deklaag {street}", "corridor", 14, (5, 20), False, CLOSURE),
    Kind("road", "Herstraten trottoir {street}", "kerb", 9, (10, 40), False, LANE),
    Kind(
        "road",
        "Aanleg fietspad {street}",
        "corridor",
        5,
        (60, 150),
        True,
        LANE,
        ("duurzame mobiliteit",),
        where="main",
    ),
    Kind("road", "Onderhoud asfalt {street} en {other}", "corridors", 5, (10, 30), False, CLOSURE),
    Kind(
        "road",
        "Herinrichting kruispunt {street} / {other}",
        "junction",
        5,
        (30, 90),
        True,
        CLOSURE,
        _S,
    ),
    Kind("green", "Aanplant bomen {street}", "row", 10, (10, 40), True, NONE, _K, spacing=15),
    Kind("green", "Renovatie plantsoen {street}", "block", 8, (20, 90), True, NONE, _K),
    Kind("green", "Vervangen zieke essen {street}", "row", 5, (5, 20), True, LANE, spacing=25),
    Kind("green", "Vergroenen {district}", "blocks", 5, (30, 120), False, NONE, _K),
    Kind("green", "Snoeien laanbomen {street}", "line", 4, (3, 10), False, LANE),
    Kind(
        "lighting",
        "LED-ombouw {street}",
        "row",
        12,
        (5, 20),
        False,
        NONE,
        ("verduurzaming",),
        spacing=35,
    ),
    Kind("lighting", "Vervangen lichtmast {street}", "spot", 8, (1, 5), True, NONE),
    Kind("lighting", "Vervangen verlichtingskabel {street}", "line", 6, (10, 30), True, LANE),
    Kind(
        "housing",
        "Renovatie {n} woningen {street}",
        "block",
        9,
        (120, 400),
        False,
        LANE,
        ("wijkvernieuwing",),
    ),
    Kind(
        "housing",
        "Nieuwbouw {n} woningen {street}",
        "block",
        7,
        (300, 700),
        True,
        LANE,
        ("woningbouw",),
    ),
    Kind(
        "housing",
        "Sloop en nieuwbouw {district}",
        "blocks",
        4,
        (365, 900),
        True,
        LANE,
        ("wijkvernieuwing", "woningbouw"),
    ),
    Kind("housing", "Verduurzaming {n} woningen {street}", "block", 6, (90, 300), False, NONE, _E),
    Kind("traffic", "Verkeersdrempels {street}", "row", 6, (3, 10), True, LANE, _S, spacing=90),
    Kind("traffic", "30 km-zone {district}", "district", 3, (30, 90), False, NONE, _S),
    Kind(
        "traffic",
        "Afsluiting {street} i.v.m. evenement",
        "line",
        4,
        (1, 3),
        False,
        CLOSURE,
        when="soon",
        precision=Precision.DAY,
    ),
    Kind("traffic", "Snelheidsdisplay {street}", "spot", 3, (1, 2), False, NONE, _S),
    Kind("traffic", "Schoolzone {street}", "corridor", 4, (10, 30), False, LANE, _S),
    Kind("other", "Ondergrondse containers {street}", "row", 6, (5, 20), True, LANE, spacing=60),
    Kind(
        "other", "Kermis op de Markt", "market", 3, (4, 7), False, CLOSURE, precision=Precision.DAY
    ),
    Kind("other", "Vernieuwen speeltuin {street}", "block", 5, (20, 60), True, NONE),
    Kind("other", "Bouwplaatsinrichting {street}", "corridor", 3, (60, 200), False, LANE),
)


def plan_standalone_works(planner: Planner) -> None:
    """Plan every kind's works, in the order of :data:`KINDS`."""
    for kind in KINDS:
        for _ in range(kind.count):
            _plan(planner, kind)


def _streets(planner: Planner, where: str) -> list[DemoStreet]:
    streets = planner.town.streets
    if where == "heat":
        return [s for s in streets if s.district in HEAT_DISTRICTS or s.kind == "arterial"]
    if where == "main":
        return [s for s in streets if s.kind in ("arterial", "ring")]
    return list(streets)


def _plan(planner: Planner, kind: Kind) -> None:
    rng, town = planner.rng, planner.town
    street = rng.choice(_streets(planner, kind.where))
    names = {
        "street": street.name,
        "district": street.district,
        "n": rng.choice((12, 24, 36, 48, 64)),
    }
    line = shapes.stretch(rng, street.line, 0.3, 1.0)
    offset = shapes.OFFSET[kind.discipline]
    shape = kind.shape
    if shape in ("block", "blocks"):
        block = rng.choice(town.blocks)
        street = town.by_ref[block.street_ref]
        names.update(street=street.name, district=block.district)
        geometry = block.polygon
        if shape == "blocks":
            others = [b for b in town.blocks if b.district == block.district and b != block]
            geometry = shapes.areas([block.polygon, rng.choice(others).polygon])
    elif shape in ("route", "junction", "corridors"):
        other = _other(planner, street, touching=shape != "corridors")
        if other is None:
            return
        names["other"] = other.name
        if shape == "route":
            near = shapes.around(other.line, line, rng.uniform(150, 300))
            geometry = shapes.lines(
                [shapes.trench(line, kind.discipline), shapes.trench(near, kind.discipline)]
            )
        elif shape == "junction":
            point = nearest_points(street.line, other.line)[0]
            geometry = shapes.tidy(point.buffer(25, quad_segs=8))
        else:
            far = shapes.stretch(rng, other.line, 0.5, 1.0)
            geometry = shapes.areas([shapes.corridor(line, 12), shapes.corridor(far, 12)])
    elif shape == "district":
        district = rng.choice([d.name for d in town.districts if d.kind == "residential"])
        names["district"] = district
        geometry = shapes.tidy(
            shapely.MultiLineString([s.line for s in town.in_district(district, "residential")])
        )
    elif shape == "market":
        geometry = shapes.tidy(town.market)
    elif shape == "line":
        geometry = shapes.trench(line, kind.discipline)
    elif shape == "kerb":
        geometry = shapes.tidy(shapes.shifted(line, -6.0))
    elif shape == "stubs":
        geometry = shapes.stubs(rng, line, offset, rng.randint(3, 8))
    elif shape == "corridor":
        geometry = shapes.corridor(line, 16 if street.kind in ("arterial", "ring") else 11)
    elif shape == "spot":
        geometry = shapes.spot(rng, line, offset)
    elif shape == "few":
        geometry = shapes.row(shapes.stretch(rng, line, 0.05, 0.1), kind.spacing, offset)
    else:  # row
        geometry = shapes.row(line, kind.spacing, offset)
    if kind.when == "now":
        start = timing.PLAN_DATE - timedelta(days=rng.randrange(45))
    elif kind.when == "soon":
        start = timing.PLAN_DATE + timedelta(days=rng.randrange(540))
    else:
        start = timing.random_start(rng)
    planner.add(
        kind.discipline,
        kind.title.format(**names),
        geometry,
        start,
        start + timedelta(days=rng.randrange(*kind.days)),
        excavation=kind.excavation,
        impact=kind.impact,
        description=kind.description,
        tags=kind.tags,
        precision=kind.precision,
    )


def _other(planner: Planner, street: DemoStreet, *, touching: bool) -> DemoStreet | None:
    """A street that meets ``street`` (``touching``), or one of its district that does not."""
    rng, town = planner.rng, planner.town
    if touching:
        choices = town.neighbours(street)
    else:
        choices = [
            s
            for s in town.in_district(street.district, "residential")
            if s.ref != street.ref and shapely.distance(s.geom, street.geom) > 40
        ]
    return rng.choice(choices) if choices else None
