"""Street reconstruction programmes: where "werk met werk maken" pays off.

The roads department redesigns a street in some year. In the months before, the sewer
department, the water company, the grid operator and the telecom company each plan their own
trench in the same street (some overlapping in time, some a year or two apart), trees and
masts follow the new road, and a detour runs through the streets around. Some programmes
also meet a closure on a neighbouring street in the same weeks: a conflict to untangle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import shapely
from shapely import LineString
from shapely.ops import substring

from ..models import Precision, TrafficImpact
from . import shapes, timing
from .plan import Planner
from .town import DemoStreet

NONE, LANE, CLOSURE = TrafficImpact.NONE, TrafficImpact.LANE, TrafficImpact.CLOSURE
PROGRAMME_COUNT = 52
# District heating is rolled out in these districts (and along the arterial roads).
HEAT_DISTRICTS = ("Centrum", "Kruidenwijk", "Bedrijvenpark De Vallei", "Sterrenwijk", "Fruithof")

_WIDTH = {"residential": 14.0, "arterial": 22.0, "ring": 24.0, "centre": 12.0, "singel": 16.0}
_ROAD_TITLES = ("Herinrichting {street}", "Reconstructie {street}", "Groot onderhoud {street}")
_NEIGHBOUR_CLOSURES = (
    ("water", "Vervangen hoofdwaterleiding {street}", True),
    ("gas", "Vervangen gasaansluitingen {street}", True),
    ("electricity", "Aanleg kabel naar nieuw trafostation {street}", True),
    ("telecom", "Kabelwerk glasvezel {street}", True),
    ("other", "Straatfeest {street}", False),
    ("housing", "Bouwkraan en bouwverkeer {street}", False),
)


@dataclass(frozen=True)
class Partner:
    """A work another party plans in the street of a programme."""

    discipline: str
    title: str
    chance: float
    begins: tuple[int, int]  # days after the road work starts (negative: before)
    days: tuple[int, int]
    impact: TrafficImpact
    tags: tuple[str, ...] = ()
    spacing: tuple[float, float] | None = None  # a row of points (trees, masts), not a trench
    after_road: bool = False  # begins counts from the end of the road work instead
    description: str = ""


_V = ("vervangingsopgave",)
_PARTNERS = (
    Partner("sewer", "Vervangen riolering {street}", 0.85, (-400, -1), (60, 300), CLOSURE, _V),
    Partner("water", "Vervangen waterleiding {street}", 0.6, (-730, -60), (30, 150), LANE, _V),
    Partner("gas", "Vervangen gasleiding {street}", 0.5, (-600, -1), (30, 120), LANE, _V),
    Partner(
        "telecom", "Aanleg glasvezel {street}", 0.3, (-365, -1), (20, 90), LANE, ("glasvezel",)
    ),
    Partner(
        "district_heating",
        "Aanleg warmtenet {street}",
        0.6,
        (-400, -1),
        (90, 270),
        CLOSURE,
        ("energietransitie",),
    ),
    Partner(
        "green",
        "Nieuwe bomen {street}",
        0.5,
        (-30, 150),
        (14, 60),
        NONE,
        ("klimaatadaptatie",),
        spacing=(12, 20),
        after_road=True,
        description="Bomen in het nieuwe profiel.",
    ),
    Partner(
        "lighting",
        "Vervangen lichtmasten {street}",
        0.4,
        (0, 60),
        (14, 45),
        NONE,
        ("verduurzaming",),
        spacing=(30, 40),
        description="LED-masten op de nieuwe plek.",
    ),
)


def _days(planner: Planner, low: int, high: int) -> timedelta:
    return timedelta(days=planner.rng.randrange(low, high))


def _road_start(planner: Planner) -> date:
    year = planner.rng.choices(range(2026, 2033), weights=(3, 9, 10, 9, 8, 7, 4))[0]
    if year == 2026:
        return date(2026, 5, 1) + _days(planner, 0, 200)
    return date(year, 1, 1) + _days(planner, 0, 300)


def plan_programmes(planner: Planner) -> None:
    """Plan every reconstruction programme, each with its partners' works and its detour."""
    rng, town = planner.rng, planner.town
    candidates = [
        s
        for s in town.streets
        if s.kind != "ring" and s.line.length >= 150 and s.ref not in planner.used_streets
    ]
    for street in rng.sample(candidates, PROGRAMME_COUNT):
        planner.used_streets.add(street.ref)
        _programme(planner, street)


def _programme(planner: Planner, street: DemoStreet) -> None:
    rng, town = planner.rng, planner.town
    name, line = street.name, shapes.stretch(rng, street.line, 0.6, 1.0)
    start = _road_start(planner)
    end = start + _days(planner, 60, 240)
    context = f"Onderdeel van de integrale herinrichting van de {name} ({start.year})."
    partner = _partner_street(planner, street)
    areas = [shapes.corridor(line, _WIDTH[street.kind])]
    title = rng.choice(_ROAD_TITLES).format(street=name)
    if partner is not None:
        areas.append(shapes.corridor(shapes.stretch(rng, partner.line, 0.7, 1.0), 14))
        title = f"{title} en {partner.name}"
    # Some programmes separate rain water from sewage: climate adaptation.
    separate = rng.random() < 0.4
    planner.add(
        "road",
        title,
        shapes.areas(areas),
        start,
        end,
        excavation=True,
        impact=TrafficImpact.CLOSURE,
        description=f"Nieuw profiel, riolering en verharding in één keer. {context}",
        tags=("wijkvernieuwing", "klimaatadaptatie") if separate else ("wijkvernieuwing",),
    )
    heat = street.district in HEAT_DISTRICTS or street.kind == "arterial"
    for partner_work in _PARTNERS:
        if partner_work.discipline == "district_heating" and not heat:
            continue
        if rng.random() < partner_work.chance:
            _partner_work(planner, partner_work, name, line, start, end, context, separate)
    if rng.random() < 0.55:
        _cables(planner, street, line, start)
    neighbours = [n for n in town.neighbours(street) if n.kind != "ring"]
    if neighbours and rng.random() < 0.35:
        detour = [shapes.around(n.line, line, 250) for n in neighbours[:3]]
        planner.add(
            "traffic",
            f"Omleiding verkeer i.v.m. werk in de {name}",
            shapes.lines(detour),
            start,
            end,
            excavation=False,
            impact=TrafficImpact.LANE,
            description="Borden en verkeersregelaars; de omleiding volgt de buurstraten.",
            precision=Precision.DAY,
        )
    if neighbours and timing.PLAN_DATE <= start <= date(2028, 6, 30) and rng.random() < 0.75:
        _neighbour_closure(planner, rng.choice(neighbours), line, start)


def _partner_work(
    planner: Planner,
    kind: Partner,
    name: str,
    line: LineString,
    road_start: date,
    road_end: date,
    context: str,
    separate: bool,
) -> None:
    rng = planner.rng
    anchor = road_end if kind.after_road else road_start
    begin = anchor + _days(planner, *kind.begins)
    if kind.spacing is None:
        geometry = shapes.trench(shapes.stretch(rng, line, 0.5, 1.0), kind.discipline)
    else:
        geometry = shapes.row(line, rng.uniform(*kind.spacing), shapes.OFFSET[kind.discipline])
    title, tags = kind.title, kind.tags
    if kind.discipline == "sewer" and separate:
        title, tags = "Aanleg gescheiden rioolstelsel {street}", ("klimaatadaptatie", *tags)
    planner.add(
        kind.discipline,
        title.format(street=name),
        geometry,
        begin,
        begin + _days(planner, *kind.days),
        excavation=True,
        impact=kind.impact,
        description=f"{kind.description} {context}".strip(),
        tags=tags,
    )


def _cables(planner: Planner, street: DemoStreet, line, road_start: date) -> None:
    """The grid operator reinforces the low-voltage network, in one or two stretches."""
    rng = planner.rng
    begin = road_start - _days(planner, 1, 540)
    if line.length > 220 and rng.random() < 0.5:
        length = line.length
        parts = [substring(line, 0, length * 0.45), substring(line, length * 0.55, length)]
        geometry = shapes.lines([shapes.trench(p, "electricity") for p in parts])
    else:
        geometry = shapes.trench(shapes.stretch(rng, line, 0.5, 1.0), "electricity")
    planner.add(
        "electricity",
        f"Verzwaren laagspanningsnet {street.name}",
        geometry,
        begin,
        begin + _days(planner, 30, 150),
        excavation=True,
        impact=TrafficImpact.LANE,
        description="Meer capaciteit voor warmtepompen en laadpalen.",
        tags=("energietransitie",),
    )


def _partner_street(planner: Planner, street: DemoStreet) -> DemoStreet | None:
    """Sometimes a second street of the district joins the contract (one that does not meet)."""
    rng = planner.rng
    if not street.district or rng.random() > 0.15:
        return None
    others = [
        s
        for s in planner.town.in_district(street.district, "residential")
        if s.ref not in planner.used_streets and shapely.distance(s.geom, street.geom) > 40
    ]
    if not others:
        return None
    partner = rng.choice(others)
    planner.used_streets.add(partner.ref)
    return partner


def _neighbour_closure(planner: Planner, neighbour: DemoStreet, line, road_start: date) -> None:
    """Another party closes a street next door in the same weeks as the road work."""
    rng = planner.rng
    discipline, title, digging = rng.choice(_NEIGHBOUR_CLOSURES)
    begin = road_start + _days(planner, -10, 40)
    planner.add(
        discipline,
        title.format(street=neighbour.name),
        shapes.trench(shapes.around(neighbour.line, line, rng.uniform(80, 150)), discipline),
        begin,
        begin + _days(planner, 7, 35),
        excavation=digging,
        impact=TrafficImpact.CLOSURE,
        description="Straat afgesloten voor alle verkeer.",
        precision=Precision.DAY,
    )
