"""The demo plan in memory: organisations, streets, works and dig bans, before any database.

:func:`build_plan` draws the whole demo from one seed. It is pure (no session, no clock, no
configured CRS): geometries are in RD New, and the loader reprojects them. Two calls with
the same seed give equal plans, in any process, which :meth:`DemoPlan.fingerprint` shows.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal

import shapely
from shapely.geometry.base import BaseGeometry

from ..geo import reproject
from ..models import Precision, TrafficImpact, Visibility
from ..services.works import WorkData
from . import timing
from .parties import DISCIPLINE_ORGANISATION, ORGANISATIONS, REF_PREFIX, DemoOrganisation
from .town import SOURCE_SRID, Town, build_town

SEED = "kip-demo-ede-1"

# Rough cost per metre of trench, square metre of area, or item, for budgets.
_RATE = {
    "sewer": (1400, 150, 9_000),
    "water": (450, 60, 2_500),
    "gas": (380, 50, 40_000),
    "electricity": (320, 50, 60_000),
    "district_heating": (2100, 120, 90_000),
    "telecom": (110, 20, 15_000),
    "road": (600, 110, 20_000),
    "green": (90, 45, 1_100),
    "lighting": (140, 30, 2_600),
    "housing": (900, 1_900, 250_000),
    "traffic": (150, 120, 6_000),
    "other": (120, 80, 25_000),
}
_MUNICIPAL = {"sewer", "roads", "green", "lighting", "traffic", "wijk"}


@dataclass(frozen=True)
class DemoWork:
    """A work of the plan: who does it (a key of :data:`parties.ORGANISATIONS`) and what.

    ``data`` holds the geometry in RD New; :meth:`work_data` gives it in the project CRS.
    """

    organisation: str
    data: WorkData

    @property
    def ref(self) -> str:
        return self.data.external_ref or ""

    def work_data(self, srid: int) -> WorkData:
        """A fresh copy for the works service, with the geometry reprojected to ``srid``."""
        geometry = reproject(self.data.geometry, SOURCE_SRID, srid)
        return replace(self.data, geometry=geometry, tags=list(self.data.tags))


@dataclass(frozen=True)
class DemoDigBan:
    ref: str
    title: str
    reason: str
    geometry: BaseGeometry
    start_date: date
    end_date: date
    source_work_ref: str | None


@dataclass(frozen=True)
class DemoPlan:
    organisations: tuple[DemoOrganisation, ...]
    town: Town
    works: tuple[DemoWork, ...]
    dig_bans: tuple[DemoDigBan, ...]

    def fingerprint(self) -> str:
        """A short hash of the whole content: equal plans, equal fingerprints."""
        digest = hashlib.sha256()
        for org in self.organisations:
            digest.update(f"{org.key}|{org.name}|{org.kind.value}\n".encode())
        for street in self.town.streets:
            digest.update(f"{street.ref}|{street.name}|".encode() + street.geom.wkb + b"\n")
        for work in self.works:
            values = [work.organisation]
            for f in fields(work.data):
                value = getattr(work.data, f.name)
                values.append(value.wkb.hex() if f.name == "geometry" else str(value))
            digest.update("|".join(values).encode() + b"\n")
        for ban in self.dig_bans:
            line = f"{ban.ref}|{ban.title}|{ban.reason}|{ban.start_date}|{ban.end_date}|"
            digest.update(line.encode() + ban.geometry.wkb + b"\n")
        return digest.hexdigest()[:16]


@dataclass
class Planner:
    """Collects the works of the plan, filling in what follows from the dates and the kind."""

    rng: random.Random
    town: Town
    works: list[DemoWork] = field(default_factory=list)
    used_streets: set[str] = field(default_factory=set)
    _numbers: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        discipline: str,
        title: str,
        geometry: BaseGeometry,
        start: date,
        end: date,
        *,
        excavation: bool,
        impact: TrafficImpact,
        description: str = "",
        tags: tuple[str, ...] = (),
        organisation: str | None = None,
        precision: Precision | None = None,
        may_cancel: bool = True,
    ) -> DemoWork:
        rng = self.rng
        org_key = organisation or DISCIPLINE_ORGANISATION[discipline]
        org = next(o for o in ORGANISATIONS if o.key == org_key)
        precision = precision or timing.precision_for(rng, start)
        start, end = timing.snap(start, max(start, end), precision)
        phase = timing.phase_for(rng, start, end)
        if may_cancel and rng.random() < 0.04:
            phase = "cancelled"
        number = self._numbers.get(discipline, 0) + 1
        self._numbers[discipline] = number
        contact_name, contact_email = rng.choice(org.planners)
        data = WorkData(
            title=title,
            discipline=discipline,
            phase=phase,
            geometry=geometry,
            start_date=start,
            end_date=end,
            description=description,
            precision=precision,
            excavation=excavation,
            traffic_impact=impact,
            visibility=self._visibility(org, phase),
            external_ref=f"DEMO-{REF_PREFIX[discipline]}-{number:04d}",
            contact_name=contact_name,
            contact_email=contact_email,
            budget=self._budget(org_key, discipline, geometry),
            tags=list(tags),
        )
        work = DemoWork(org_key, data)
        self.works.append(work)
        return work

    def _visibility(self, org: DemoOrganisation, phase: str) -> Visibility:
        roll = self.rng.random()
        if org.key == "housing":
            order = (0.2, 0.7)  # public below the first, partners below the second
        elif phase in ("initiative", "design", "cancelled"):
            order = (0.1, 0.85)
        else:
            order = (0.75, 0.95)
        if roll < order[0]:
            return Visibility.PUBLIC
        return Visibility.PARTNERS if roll < order[1] else Visibility.CONFIDENTIAL

    def _budget(self, org_key: str, discipline: str, geom: BaseGeometry) -> Decimal | None:
        roll, spread = self.rng.random(), self.rng.uniform(0.8, 1.25)
        if roll > (0.8 if org_key in _MUNICIPAL else 0.35):
            return None
        per_metre, per_square_metre, per_item = _RATE[discipline]
        dimension = shapely.get_dimensions(geom)
        if dimension == 0:
            size = per_item * shapely.get_num_geometries(geom)
        elif dimension == 1:
            size = per_metre * geom.length
        else:
            size = per_square_metre * geom.area
        euros = max(5_000, round(size * spread, -3))
        return Decimal(int(euros)).quantize(Decimal("0.01"))


def build_plan(seed: str = SEED) -> DemoPlan:
    """The whole demo for ``seed``: the same seed always gives an equal plan."""
    from .bans import plan_dig_bans
    from .catalogue import plan_standalone_works
    from .programmes import plan_programmes

    town = build_town(seed)
    planner = Planner(random.Random(f"{seed}/works"), town)
    bans = plan_dig_bans(planner)
    plan_programmes(planner)
    plan_standalone_works(planner)
    return DemoPlan(ORGANISATIONS, town, tuple(planner.works), tuple(bans))
