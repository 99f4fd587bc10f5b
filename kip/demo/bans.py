"""Dig bans of the demo: streets repaved in the first half of 2026, closed for three years.

Each ban comes with the completed road work it protects, and most bans with a work or two
that would open the ground inside the ban during its period (the violations the overlap
engine is there to catch), and sometimes a work that waits politely until the ban is over.
"""

from __future__ import annotations

from datetime import date, timedelta

import shapely

from ..models import Precision, TrafficImpact
from . import shapes, timing
from .plan import DemoDigBan, Planner
from .town import DemoStreet

BAN_ORGANISATION = "roads"
BAN_COUNT = 6
BAN_MONTHS = 36

# Works that open the ground where they should not: (discipline, title, shape, impact).
_VIOLATIONS = (
    ("telecom", "Aanleg glasvezel {street}", "line", TrafficImpact.LANE),
    ("electricity", "Storing middenspanningskabel {street}", "spot", TrafficImpact.CLOSURE),
    ("water", "Vervangen huisaansluitingen {street}", "stubs", TrafficImpact.LANE),
    ("gas", "Saneren gasleiding {street}", "line", TrafficImpact.LANE),
    ("district_heating", "Aanleg warmtenet {street}", "line", TrafficImpact.CLOSURE),
    ("other", "Plaatsen ondergrondse containers {street}", "row", TrafficImpact.NONE),
    ("electricity", "Aansluiten laadplein {street}", "spot", TrafficImpact.NONE),
)


def _names(streets: list[DemoStreet]) -> str:
    return " en ".join(s.name for s in streets)


def _pick(planner: Planner) -> list[list[DemoStreet]]:
    """Five single streets and one pair of streets that do not meet (one contract)."""
    rng, town = planner.rng, planner.town
    candidates = [
        s
        for s in town.streets
        if s.kind in ("residential", "ring", "arterial") and s.line.length >= 250
    ]
    singles = rng.sample(candidates, BAN_COUNT - 1)
    first = rng.choice([s for s in candidates if s not in singles and s.district])
    apart = [
        s
        for s in town.in_district(first.district, "residential")
        if s not in singles and s != first and shapely.distance(s.geom, first.geom) > 40
    ]
    return [[s] for s in singles] + [[first, rng.choice(apart)]]


def plan_dig_bans(planner: Planner) -> list[DemoDigBan]:
    """Plan the repaving works, their dig bans, and the works that run into them."""
    rng = planner.rng
    bans = []
    for number, streets in enumerate(_pick(planner), start=1):
        planner.used_streets.update(s.ref for s in streets)
        start = date(2026, 2, 2) + timedelta(days=rng.randrange(120))
        end = start + timedelta(days=rng.randrange(21, 56))
        road = planner.add(
            "road",
            f"Vervangen asfalt {_names(streets)}",
            shapes.areas([shapes.corridor(s.line, 14) for s in streets]),
            start,
            end,
            excavation=True,
            impact=TrafficImpact.CLOSURE,
            description="Nieuwe fundering en asfalt; daarna geldt drie jaar een graafverbod.",
            precision=Precision.DAY,
            may_cancel=False,
        )
        ban_start = road.data.end_date + timedelta(days=1)
        ban_end = timing.add_months(ban_start, BAN_MONTHS) - timedelta(days=1)
        bans.append(
            DemoDigBan(
                ref=f"DEMO-BAN-{number:02d}",
                title=f"Graafverbod {_names(streets)}",
                reason=(
                    f"Nieuw asfalt, opgeleverd op {road.data.end_date:%d-%m-%Y}: tot en met "
                    f"{ban_end:%d-%m-%Y} geen graafwerk, behalve bij calamiteiten."
                ),
                geometry=shapes.areas([shapes.corridor(s.line, 18) for s in streets]),
                start_date=ban_start,
                end_date=ban_end,
                source_work_ref=road.ref,
            )
        )
        if number <= 5:
            for k in range(1 + number % 2):
                _violate(planner, streets[0], ban_start, (number * 2 + k) % len(_VIOLATIONS))
        if number % 2 == 0:
            line = shapes.stretch(rng, streets[0].line, 0.6, 1.0)
            later = ban_end + timedelta(days=rng.randrange(10, 200))
            planner.add(
                "water",
                f"Vervangen waterleiding {streets[0].name}",
                shapes.trench(line, "water"),
                later,
                later + timedelta(days=rng.randrange(30, 90)),
                excavation=True,
                impact=TrafficImpact.LANE,
                description="Gepland na afloop van het graafverbod.",
                tags=("vervangingsopgave",),
            )
    return bans


def _violate(planner: Planner, street: DemoStreet, ban_start: date, which: int) -> None:
    rng = planner.rng
    discipline, title, shape, impact = _VIOLATIONS[which]
    line = shapes.stretch(rng, street.line, 0.3, 0.8)
    if shape == "spot":
        # A fault is repaired now (in progress on the plan date), whatever the ban says.
        start = timing.PLAN_DATE - timedelta(days=rng.randrange(3, 12))
        geometry = shapes.spot(rng, line, shapes.OFFSET[discipline])
    else:
        start = ban_start + timedelta(days=rng.randrange(120, 540))
        if shape == "stubs":
            geometry = shapes.stubs(rng, line, shapes.OFFSET[discipline], rng.randint(3, 7))
        elif shape == "row":
            geometry = shapes.row(line, 45, shapes.OFFSET[discipline])
        else:
            geometry = shapes.trench(line, discipline)
    planner.add(
        discipline,
        title.format(street=street.name),
        geometry,
        start,
        start + timedelta(days=rng.randrange(10, 60)),
        excavation=True,
        impact=impact,
        tags=("energietransitie",) if discipline in ("electricity", "district_heating") else (),
        may_cancel=False,
    )
